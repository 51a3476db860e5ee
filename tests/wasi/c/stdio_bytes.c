// Stdio carries bytes, and says what it is attached to.
//   stdio_bytes bytes   writes every byte value 0..255 to stdout, then "é" split across two
//                       writes, then a newline; and "é" split the same way to stderr.
//   stdio_bytes split   writes "café" to stdout and "é" to stderr, each é split across two
//                       writes, each followed by a newline (text a terminal can show).
//   stdio_bytes isatty  prints, for fds 0, 1 and 2, isatty() and the fdstat filetype.
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

static int write_all(int fd, const void *data, size_t len) {
    const unsigned char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n <= 0) return 1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int bytes(void) {
    unsigned char all[256];
    for (int i = 0; i < 256; i++) all[i] = (unsigned char)i;
    // Each write is one fd_write: the split character crosses a write boundary.
    return write_all(1, all, sizeof all) || write_all(1, "\xc3", 1) || write_all(1, "\xa9", 1)
        || write_all(1, "\n", 1) || write_all(2, "\xc3", 1) || write_all(2, "\xa9\n", 2);
}

static int split(void) {
    return write_all(1, "caf\xc3", 4) || write_all(1, "\xa9\n", 2) || write_all(2, "\xc3", 1)
        || write_all(2, "\xa9\n", 2);
}

static int report_ttys(void) {
    for (int fd = 0; fd <= 2; fd++) {
        __wasi_fdstat_t stat;
        __wasi_errno_t err = __wasi_fd_fdstat_get(fd, &stat);
        printf("fd %d: isatty %d, filetype %d\n", fd, isatty(fd), err ? -(int)err : stat.fs_filetype);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "bytes") == 0) return bytes();
    if (argc == 2 && strcmp(argv[1], "split") == 0) return split();
    if (argc == 2 && strcmp(argv[1], "isatty") == 0) return report_ttys();
    fprintf(stderr, "usage: stdio_bytes bytes|split|isatty\n");
    return 2;
}
