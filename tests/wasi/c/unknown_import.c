// A program that imports a function no WASI runtime provides (`host::answer`, as some
// embedder-specific builds do). It calls it only when asked: with --trap-unknown-imports it
// starts, prints, and traps only at the call.
#include <stdio.h>
#include <string.h>

__attribute__((import_module("host"), import_name("answer"))) int host_answer(void);

int main(int argc, char **argv) {
    puts("started");
    fflush(stdout);
    if (argc == 2 && strcmp(argv[1], "call") == 0) printf("host says %d\n", host_answer());
    return 0;
}
