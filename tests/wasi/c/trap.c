// A trap ends the program: the runtime exits 134 and names the trap on stderr, and what the
// program wrote before it is not lost.
#include <stdio.h>

int main(void) {
    puts("before the trap");
    fflush(stdout);
    __builtin_trap();
}
