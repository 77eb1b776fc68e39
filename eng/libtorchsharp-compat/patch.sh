#!/usr/bin/env bash
# Makes the copy of TorchSharp's native library in a build output load on a system whose libstdc++ is older than
# GCC 13's (Debian 12: GLIBCXX_3.4.30). Does nothing where the system libstdc++ is new enough, or when the copy is
# already patched. Never touches the NuGet cache: MSBuild copies the library into the output and this edits that copy.
# Usage: patch.sh OUTPUT/runtimes/linux-x64/native            (see README.md for why and how)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${1:?usage: patch.sh NATIVE_DIR}"
lib="$dir/libLibTorchSharp.so"
shim=libweightscope_ios_init.so
symbol=_ZSt21ios_base_library_initv   # std::ios_base_library_init(), GLIBCXX_3.4.32
[ -f "$lib" ] || exit 0

# (awk reads all of ldconfig's output: exiting early would kill ldconfig with SIGPIPE under pipefail)
stdcxx="$(/sbin/ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ && !found { print $NF; found = 1 }')"
[ -n "$stdcxx" ] || stdcxx=/lib/x86_64-linux-gnu/libstdc++.so.6
[ -f "$stdcxx" ] || exit 0   # no system libstdc++ to compare with: leave the library as shipped
if grep -qa GLIBCXX_3.4.32 "$stdcxx"; then exit 0; fi

# Only the one GCC 13 symbol may be missing; any other missing version is a newer TorchSharp needing a newer fix.
missing=""
for v in $(readelf -V "$lib" | grep -o 'GLIBCXX_[0-9.]*' | sort -u || true); do
  grep -qa "$v" "$stdcxx" || missing="$missing $v"
done
if [ "$missing" != " GLIBCXX_3.4.32" ]; then
  echo "libtorchsharp-compat: $lib needs$missing, which $stdcxx lacks; only GLIBCXX_3.4.32 can be bridged" >&2
  exit 1
fi
if readelf -d "$lib" | grep -q "\[$shim\]"; then exit 0; fi   # patched already

for tool in patchelf g++ readelf; do
  command -v "$tool" >/dev/null || { echo "libtorchsharp-compat: $tool is needed to bridge GLIBCXX_3.4.32 (apt-get install patchelf g++ binutils)" >&2; exit 1; }
done
g++ -shared -fPIC -O2 -o "$dir/$shim" "$here/ios_base_library_init.cpp"
patchelf --clear-symbol-version "$symbol" "$lib"
patchelf --add-needed "$shim" "$lib"
python3 "$here/weaken_verneed.py" "$lib" GLIBCXX_3.4.32 >/dev/null
echo "libtorchsharp-compat: $stdcxx lacks GLIBCXX_3.4.32; bridged $lib with $shim"
