using System.Buffers.Binary;
using System.Text;
using WeightScope.IO;

namespace WeightScope.Security;

/// <summary>
/// The pre-0.1.10 PyTorch format, a tar archive, as torch 1.13's <c>torch/serialization.py</c> <c>_legacy_load</c> reads it:
/// <c>torch.load</c> first tries <c>tarfile.open(fileobj=f, mode='r:')</c> on any seekable file at offset 0, and when that
/// succeeds reads three members: <c>storages</c> (a pickled count, then per storage a pickled
/// <c>(key, location, storage_type)</c>, an int64 element count and the raw elements, then a pickled list of views),
/// <c>tensors</c> (a pickled count, then per tensor a pickled <c>(key, storage_id, type)</c>, an int32 ndim, 4 unused
/// bytes, ndim int64 sizes, ndim int64 strides and an int64 offset) and <c>pickle</c> (the object). Every pickle between
/// the raw bytes is walked; the raw bytes are skipped as torch skips them. Other members that start like a pickle
/// (<c>sys_info</c>, written by the old torch.save) are walked too. Headers follow POSIX.1-1988 ustar (512-byte blocks;
/// octal or base-256 numbers; checksum over the header with its own field as spaces), as Python's <c>tarfile</c> checks them.
/// </summary>
internal static class TorchTarScan
{
    /// <summary>Size of a tar header and of the unit member data is padded to.</summary>
    public const int BlockSize = 512;

    // ustar header fields (offset, length).
    private const int NameOffset = 0, NameLength = 100, SizeOffset = 124, SizeLength = 12, ChecksumOffset = 148, ChecksumLength = 8;
    private const int TypeOffset = 156, MagicOffset = 257, PrefixOffset = 345, PrefixLength = 155;

    private static readonly Dictionary<string, int> StorageElementSizes = new(StringComparer.Ordinal)
    {
        ["DoubleStorage"] = 8, ["FloatStorage"] = 4, ["HalfStorage"] = 2, ["LongStorage"] = 8, ["IntStorage"] = 4,
        ["ShortStorage"] = 2, ["CharStorage"] = 1, ["ByteStorage"] = 1, ["BoolStorage"] = 1, ["BFloat16Storage"] = 2,
        ["ComplexDoubleStorage"] = 16, ["ComplexFloatStorage"] = 8, ["QUInt8Storage"] = 1, ["QInt8Storage"] = 1,
        ["QInt32Storage"] = 4, ["QUInt4x2Storage"] = 1, ["QUInt2x4Storage"] = 1,
    };

    private sealed record Member(string Name, char Type, long DataOffset, long Size);

    /// <summary>True when the first block is a tar header Python's tarfile accepts (its checksum matches; not all zeros).</summary>
    public static bool LooksLikeTar(MappedFile file) => file.Length >= BlockSize && LooksLikeTar(file.Span(0, BlockSize));

    /// <summary>True when <paramref name="block"/> (512 bytes) is a valid tar header.</summary>
    public static bool LooksLikeTar(ReadOnlySpan<byte> block)
    {
        if (block.Length < BlockSize || !block[..BlockSize].ContainsAnyExcept((byte)0)) return false;
        return ChecksumMatches(block[..BlockSize]);
    }

    /// <summary>Walks the pickles torch.load reads from the tar archive.</summary>
    public static void Scan(PickleScanner.Scope scope, MappedFile file, string source, ReaderLimits limits)
    {
        var members = Members(file, source);
        var byName = new Dictionary<string, Member>(StringComparer.Ordinal);
        foreach (var m in members) byName[m.Name] = m; // tarfile.getmember: the last member of a name wins
        foreach (var m in byName.Values)
        {
            string where = PickleScanner.Join(source, m.Name);
            if (m.Type is not ('0' or '\0' or '7'))
            {
                if (m.Name is "storages" or "tensors" or "pickle" && m.Type is '1' or '2')
                    scope.Code($"tar-link", where, $"member '{m.Name}' is a link: tarfile.extract follows it to another file, which torch.load then unpickles", ScanVerdict.Dangerous);
                continue;
            }
            var data = file.Span(m.DataOffset, checked((int)m.Size));
            try
            {
                switch (m.Name)
                {
                    case "storages": Storages(scope, data, where, m.DataOffset); break;
                    case "tensors": Tensors(scope, data, where, m.DataOffset); break;
                    case "pickle": scope.Pickle(data, where, m.DataOffset, out _); break;
                    default:
                        if (data.Length >= 2 && data[0] == 0x80 && data[1] is >= 2 and <= 5) scope.Pickle(data, where, m.DataOffset, out _, quiet: true);
                        break;
                }
            }
            catch (ModelFormatException x) { scope.Error(where, x.Message); }
        }
        if (!byName.ContainsKey("storages")) scope.Note($"{PickleScanner.Where(source)}: a tar archive without a 'storages' member (torch.load fails on it before unpickling anything)");
    }

    private static void Storages(PickleScanner.Scope scope, ReadOnlySpan<byte> data, string where, long baseOffset)
    {
        int at = 0;
        if (!Next(scope, data, ref at, where, baseOffset, out var countValue) || countValue is not long count) return;
        for (long i = 0; i < count; i++)
        {
            if (!Next(scope, data, ref at, where, baseOffset, out var args)) return;
            // (key, location, storage_type): torch's find_class turns any global whose name is a storage type into it.
            if (args is not object?[] { Length: 3 } a || a[2] is not PickleGlobalWalker.GlobalRef storageType
                || scope.LastGlobalName(storageType) is not { } typeName || !StorageElementSizes.TryGetValue(typeName, out int elementSize))
            {
                scope.Error(where, $"storage #{i} at {baseOffset + at}: its (key, location, storage type) is not what torch writes, so the raw bytes after it cannot be skipped");
                return;
            }
            long numel = ReadInt64(data, ref at, where, baseOffset, "storage element count");
            long bytes = numel < 0 || numel > (data.Length - at) / elementSize ? -1 : numel * elementSize;
            if (bytes < 0) throw Error($"storage #{i} declares {numel} elements of {elementSize} bytes, more than the {data.Length - at} bytes left", where, baseOffset + at - 8);
            at += (int)bytes;
        }
        Next(scope, data, ref at, where, baseOffset, out _); // the storage views
    }

    private static void Tensors(PickleScanner.Scope scope, ReadOnlySpan<byte> data, string where, long baseOffset)
    {
        int at = 0;
        if (!Next(scope, data, ref at, where, baseOffset, out var countValue) || countValue is not long count) return;
        for (long i = 0; i < count; i++)
        {
            if (!Next(scope, data, ref at, where, baseOffset, out _)) return;
            if (data.Length - at < 8) throw Error($"tensor #{i}: its dimension count is cut short", where, baseOffset + at);
            int ndim = BinaryPrimitives.ReadInt32LittleEndian(data[at..]);
            at += 8; // ndim, then 4 bytes the legacy encoding left unused
            long rest = ndim < 0 ? -1 : 16L * ndim + 8; // sizes, strides, storage offset
            if (rest < 0 || rest > data.Length - at) throw Error($"tensor #{i}: {ndim} dimensions do not fit the {data.Length - at} bytes left", where, baseOffset + at - 8);
            at += (int)rest;
        }
    }

    // One pickle of the member: false (with the error recorded) when it cannot be walked.
    private static bool Next(PickleScanner.Scope scope, ReadOnlySpan<byte> data, ref int at, string where, long baseOffset, out object? result)
    {
        result = null;
        if (at >= data.Length) { scope.Error(where, $"the member ends at {baseOffset + at} where torch.load reads another pickle"); return false; }
        if (!scope.Pickle(data[at..], where, baseOffset + at, out int used, out result)) return false;
        at += used;
        return true;
    }

    private static long ReadInt64(ReadOnlySpan<byte> data, ref int at, string where, long baseOffset, string what)
    {
        if (data.Length - at < 8) throw Error($"the {what} is cut short", where, baseOffset + at);
        long v = BinaryPrimitives.ReadInt64LittleEndian(data[at..]);
        at += 8;
        return v;
    }

    private static List<Member> Members(MappedFile file, string source)
    {
        var members = new List<Member>();
        long at = 0;
        string? longName = null, paxPath = null;
        long? paxSize = null;
        while (at + BlockSize <= file.Length)
        {
            var block = file.Span(at, BlockSize);
            if (!block.ContainsAnyExcept((byte)0)) break; // end-of-archive marker
            if (!ChecksumMatches(block)) throw Error($"tar header at {at} has a bad checksum", source, at);
            char type = (char)block[TypeOffset];
            long size = Number(block.Slice(SizeOffset, SizeLength), source, at);
            long data = at + BlockSize;
            if (paxSize is { } ps && type is not ('x' or 'g' or 'L')) size = ps;
            if (size < 0 || size > file.Length - data) throw Error($"tar member at {at} declares {size} bytes, past the end of the file", source, at);
            string name = Text(block.Slice(NameOffset, NameLength));
            if (block.Slice(MagicOffset, 6).SequenceEqual("ustar\0"u8) && Text(block.Slice(PrefixOffset, PrefixLength)) is { Length: > 0 } prefix)
                name = prefix + "/" + name;
            switch (type)
            {
                case 'L': longName = Text(file.Span(data, (int)size)); break; // GNU long name of the next member
                case 'x': paxPath = Pax(file.Span(data, (int)size), "path") ?? paxPath; paxSize = long.TryParse(Pax(file.Span(data, (int)size), "size"), out long s) ? s : paxSize; break;
                case 'g': break;
                default:
                    name = paxPath ?? longName ?? name;
                    if (type is '0' or '\0' && name.EndsWith('/')) type = '5'; // tarfile: a regular file named with '/' is a directory
                    members.Add(new Member(name, type, data, size));
                    (longName, paxPath, paxSize) = (null, null, null);
                    break;
            }
            at = data + (size + BlockSize - 1) / BlockSize * BlockSize;
        }
        return members;
    }

    // tarfile.nti: base-256 when the first byte is 0x80 or 0xff, else octal digits up to a NUL, spaces stripped.
    private static long Number(ReadOnlySpan<byte> field, string source, long at)
    {
        if (field[0] is 0x80 or 0xff)
        {
            long v = field[0] == 0xff ? -1 : 0;
            foreach (byte b in field[1..]) v = (v << 8) | b;
            return v;
        }
        string text = Text(field).Trim(' ', '\0');
        if (text.Length == 0) return 0;
        long n = 0;
        foreach (char c in text)
        {
            if (c is < '0' or > '7') throw Error($"tar header at {at} has a number that is not octal ('{text}')", source, at);
            n = checked(n * 8 + (c - '0'));
        }
        return n;
    }

    // tarfile.calc_chksums: the header summed with the checksum field as 8 spaces, unsigned or signed bytes.
    private static bool ChecksumMatches(ReadOnlySpan<byte> block)
    {
        long unsigned = 8 * ' ', signed = 8 * ' ';
        for (int i = 0; i < BlockSize; i++)
        {
            if (i is >= ChecksumOffset and < ChecksumOffset + ChecksumLength) continue;
            unsigned += block[i];
            signed += (sbyte)block[i];
        }
        string text = Text(block.Slice(ChecksumOffset, ChecksumLength)).Trim(' ', '\0');
        long stored = 0;
        foreach (char c in text)
        {
            if (c is < '0' or > '7') return false;
            stored = stored * 8 + (c - '0');
            if (stored > int.MaxValue) return false;
        }
        return text.Length > 0 && (stored == unsigned || stored == signed);
    }

    // A POSIX pax record list: "<length> <key>=<value>\n"…; the value of key, or null.
    private static string? Pax(ReadOnlySpan<byte> records, string key)
    {
        string text = Encoding.UTF8.GetString(records);
        foreach (var line in text.Split('\n'))
        {
            int space = line.IndexOf(' '), eq = line.IndexOf('=');
            if (space >= 0 && eq > space && line[(space + 1)..eq] == key) return line[(eq + 1)..];
        }
        return null;
    }

    private static string Text(ReadOnlySpan<byte> field)
    {
        int nul = field.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul < 0 ? field : field[..nul]);
    }

    private static InvalidModelContentException Error(string message, string source, long offset) =>
        new("pytorch-tar", message, offset, source.Length == 0 ? null : source);
}
