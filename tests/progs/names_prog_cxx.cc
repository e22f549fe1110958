// names_prog_cxx.cc: names_prog's C++ frame, a member function in a
// namespace: the summary must print it demangled, with its parameters.
#include <cstddef>

extern "C" void *grab(std::size_t n);

namespace tally_names
{
struct Leaker {
    static void *make(std::size_t n);
};

__attribute__((noipa)) void *Leaker::make(std::size_t n)
{
    void *p = grab(n); // @cxx_make
    return p;
}
} // namespace tally_names

extern "C" __attribute__((noipa)) void *names_cxx_leak(std::size_t n)
{
    void *p = tally_names::Leaker::make(n); // @cxx_entry
    return p;
}
