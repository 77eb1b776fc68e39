// GCC 13's libstdc++ (GLIBCXX_3.4.32) moved the static initialisation of the standard streams into one exported
// function, std::ios_base_library_init(), and every object compiled by GCC 13 that includes <iostream> calls it.
// TorchSharp 0.107's libLibTorchSharp.so is such an object. An older libstdc++ initialises the streams through
// std::ios_base::Init instead, so this shim gives the symbol the same effect on top of it. See README.md.
#include <ios>

namespace std {
void ios_base_library_init() { static ios_base::Init init; }
}
