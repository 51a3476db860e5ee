// A tour of WASI preview1 through wasi-libc, as an ordinary C program would use it.
//
// Usage: c-tour [DIR [ARGS...]] with DIR a preopened directory (default /data), e.g.
//   capos run --dir ./scratch::/data --env TOUR_GREETING=hi c-tour.wasm /data one two
// It reads stdin to the end, works in DIR/c-tour (leaving summary.txt there), and prints a
// report whose lines are the same on every run. Exit 0 when every step behaved; otherwise 1,
// with the step and the error on stderr.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define YEAR_2020 1577836800  // 2020-01-01T00:00:00Z: any working realtime clock is past it
#define SLEEP_NS 50000000L

// Ends the tour: the step that failed, and errno's text when the failure set it.
static _Noreturn void fail(const char *what) {
    if (errno)
        fprintf(stderr, "c-tour: FAILED: %s: %s\n", what, strerror(errno));
    else
        fprintf(stderr, "c-tour: FAILED: %s\n", what);
    exit(1);
}

#define ENSURE(cond, what)      \
    do {                        \
        errno = 0;              \
        if (!(cond)) fail(what); \
    } while (0)

static int compare_strings(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *args_and_env(int argc, char **argv) {
    ENSURE(argc >= 1, "argv[0] is missing");
    printf("args: %d after the program name:", argc - 1);
    for (int i = 1; i < argc; i++) printf(" \"%s\"", argv[i]);
    printf("\n");
    size_t count = 0;
    while (environ[count]) count++;
    char **sorted = malloc((count + 1) * sizeof *sorted);
    ENSURE(sorted, "malloc");
    memcpy(sorted, environ, count * sizeof *sorted);
    qsort(sorted, count, sizeof *sorted, compare_strings);
    printf("env: %zu variable%s\n", count, count == 1 ? "" : "s");
    for (size_t i = 0; i < count; i++) printf("  %s\n", sorted[i]);
    free(sorted);
    return argc > 1 ? argv[1] : "/data";
}

static void stdio_step(void) {
    size_t bytes = 0, lines = 0, last_len = 0;
    char last[256] = "", current[256];
    int c;
    while ((c = getchar()) != EOF) {
        bytes++;
        if (c == '\n') {
            lines++;
            memcpy(last, current, last_len);
            last[last_len] = 0;
            last_len = 0;
        } else if (last_len < sizeof current - 1) {
            current[last_len++] = (char)c;
        }
    }
    ENSURE(!ferror(stdin), "reading stdin");
    if (last_len) {  // a last line without a newline
        lines++;
        memcpy(last, current, last_len);
        last[last_len] = 0;
    }
    printf("stdin: %zu line%s, %zu bytes, last line \"%s\"\n", lines, lines == 1 ? "" : "s", bytes, last);
    fprintf(stderr, "stderr: this line goes to stderr\n");
    printf("stdout: this line goes to stdout\n");
}

static char path_buf[3][512];
// DIR/c-tour/NAME in one of three rotating buffers, so a call can take several.
static const char *in_tour(const char *root, const char *name) {
    static int next;
    char *p = path_buf[next++ % 3];
    snprintf(p, sizeof path_buf[0], "%s/c-tour%s%s", root, *name ? "/" : "", name);
    return p;
}

static void remove_previous_run(const char *root) {
    DIR *d = opendir(in_tour(root, ""));
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        const char *p = in_tour(root, e->d_name);
        ENSURE(unlink(p) == 0 || rmdir(p) == 0, "removing what a previous run left");
    }
    closedir(d);
    ENSURE(rmdir(in_tour(root, "")) == 0, "rmdir c-tour");
    printf("  removed what a previous run left\n");
}

static void files_step(const char *root) {
    printf("files in %s:\n", in_tour(root, ""));
    remove_previous_run(root);
    ENSURE(mkdir(in_tour(root, ""), 0755) == 0, "mkdir c-tour");
    ENSURE(mkdir(in_tour(root, "sub"), 0755) == 0, "mkdir c-tour/sub");
    printf("  mkdir c-tour, c-tour/sub\n");

    const char *notes = in_tour(root, "notes.txt");
    FILE *f = fopen(notes, "w");
    ENSURE(f && fputs("line 1\n", f) >= 0 && fclose(f) == 0, "write notes.txt");
    f = fopen(notes, "a");
    ENSURE(f && fputs("line 2\n", f) >= 0 && fclose(f) == 0, "append to notes.txt");
    char text[64] = "";
    f = fopen(notes, "r");
    ENSURE(f, "open notes.txt");
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    ENSURE(!strcmp(text, "line 1\nline 2\n"), "notes.txt does not hold both lines");
    printf("  write, append, read back notes.txt: \"line 1\\nline 2\\n\"\n");

    ENSURE(fseek(f, 7, SEEK_SET) == 0, "fseek to 7");
    char word[7] = "";
    ENSURE(fread(word, 1, 6, f) == 6 && !strcmp(word, "line 2"), "read 6 bytes at 7");
    ENSURE(fseek(f, 0, SEEK_END) == 0, "fseek to the end");
    long end = ftell(f);
    ENSURE(end == 14, "end of file is not at 14");
    fclose(f);
    printf("  seek to 7 and read 6 bytes: \"%s\"; end of file at %ld\n", word, end);

    struct stat st;
    ENSURE(stat(notes, &st) == 0, "stat notes.txt");
    ENSURE(S_ISREG(st.st_mode) && st.st_size == 14, "stat of notes.txt is wrong");
    bool recent = time(NULL) - st.st_mtim.tv_sec < 60;
    printf("  stat notes.txt: a file of %lld bytes, modified within the last minute: %s\n",
           (long long)st.st_size, recent ? "true" : "false");

    ENSURE(rename(notes, in_tour(root, "renamed.txt")) == 0, "rename notes.txt");
    ENSURE(access(notes, F_OK) != 0 && errno == ENOENT, "notes.txt still exists after the rename");
    printf("  rename notes.txt -> renamed.txt\n");

    DIR *d = opendir(in_tour(root, ""));
    ENSURE(d, "opendir c-tour");
    char *names[8];
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d)) && count < 8) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *name = malloc(strlen(e->d_name) + 2);
        ENSURE(name, "malloc");
        sprintf(name, "%s%s", e->d_name, e->d_type == DT_DIR ? "/" : "");
        names[count++] = name;
    }
    closedir(d);
    qsort(names, count, sizeof names[0], compare_strings);
    ENSURE(count == 2 && !strcmp(names[0], "renamed.txt") && !strcmp(names[1], "sub/"),
           "readdir shows the wrong entries");
    printf("  readdir c-tour: %s, %s\n", names[0], names[1]);
    for (size_t i = 0; i < count; i++) free(names[i]);

    ENSURE(unlink(in_tour(root, "renamed.txt")) == 0, "unlink renamed.txt");
    ENSURE(rmdir(in_tour(root, "sub")) == 0, "rmdir sub");
    ENSURE(stat(in_tour(root, "renamed.txt"), &st) != 0 && errno == ENOENT,
           "renamed.txt survived unlink");
    printf("  unlink renamed.txt, rmdir sub; stat renamed.txt now fails: not found\n");

    f = fopen(in_tour(root, "summary.txt"), "w");
    ENSURE(f && fputs("c-tour was here\n", f) >= 0 && fclose(f) == 0, "write summary.txt");
    printf("  left c-tour/summary.txt\n");
}

static int64_t ns(struct timespec t) { return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

static void clocks_and_sleep_step(void) {
    struct timespec now, previous, start, after;
    ENSURE(clock_gettime(CLOCK_REALTIME, &now) == 0, "clock_gettime(CLOCK_REALTIME)");
    ENSURE(now.tv_sec > YEAR_2020, "the realtime clock is before 2020");
    printf("clocks: realtime is after 2020-01-01: true\n");
    ENSURE(clock_gettime(CLOCK_MONOTONIC, &previous) == 0, "clock_gettime(CLOCK_MONOTONIC)");
    for (int i = 0; i < 1000; i++) {
        ENSURE(clock_gettime(CLOCK_MONOTONIC, &now) == 0, "clock_gettime(CLOCK_MONOTONIC)");
        ENSURE(ns(now) >= ns(previous), "the monotonic clock went backwards");
        previous = now;
    }
    printf("clocks: monotonic never went backwards in 1000 reads: true\n");
    struct timespec nap = {0, SLEEP_NS};
    ENSURE(clock_gettime(CLOCK_MONOTONIC, &start) == 0, "clock_gettime(CLOCK_MONOTONIC)");
    ENSURE(nanosleep(&nap, NULL) == 0, "nanosleep");
    ENSURE(clock_gettime(CLOCK_MONOTONIC, &after) == 0, "clock_gettime(CLOCK_MONOTONIC)");
    ENSURE(ns(after) - ns(start) >= SLEEP_NS, "sleep returned early");
    printf("sleep: 50 ms, and at least that long passed: true\n");
}

static void random_step(void) {
    unsigned char a[16], b[16], zero[16] = {0};
    ENSURE(getentropy(a, sizeof a) == 0 && getentropy(b, sizeof b) == 0, "getentropy");
    ENSURE(memcmp(a, zero, sizeof a) != 0, "16 random bytes were all zero");
    ENSURE(memcmp(a, b, sizeof a) != 0, "two random draws were equal");
    printf("random: 16 bytes twice, not all zero and different: true\n");
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("c-tour: WASI preview1 through wasi-libc\n");
    const char *dir = args_and_env(argc, argv);
    stdio_step();
    files_step(dir);
    clocks_and_sleep_step();
    random_step();
    printf("c-tour: all good\n");
    return 0;
}
