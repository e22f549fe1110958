// names_prog_cxx.cc: names_prog's C++ frames, a member function in a
// namespace and a function with internal linkage (no linkage name in
// DWARF): the summary must print both demangled, with their parameters.
#include <cstddef>

extern "C" void *grab(std::size_t n);

namespace
{
__attribute__((noipa)) void *hidden_helper(std::size_t n)
{
    void *p = grab(n); // @cxx_hidden
    return p;
}
} // namespace

namespace tally_names
{
struct Leaker {
    static void *make(std::size_t n);
};

__attribute__((noipa)) void *Leaker::make(std::size_t n)
{
    void *p = hidden_helper(n); // @cxx_make
    return p;
}
} // namespace tally_names

extern "C" __attribute__((noipa)) void *names_cxx_leak(std::size_t n)
{
    void *p = tally_names::Leaker::make(n); // @cxx_entry
    return p;
}
