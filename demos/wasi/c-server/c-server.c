// A small HTTP server in C for WASI preview1: accepts connections on the
// first listening socket among its fds (wasmtime --tcplisten puts it at 3,
// capOS after the preopened directories)
// one at a time with wasi-libc's accept/recv/send, and answers each with a
// page counting the requests so far. Sequential on purpose: the simplest
// server there is; the Rust static-server shows the concurrent kind.

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#define MAX_HEAD 8192

// Reads until the end of the request head; returns its length, 0 if the
// client closed first, -1 on an error or a head over MAX_HEAD.
static int read_head(int fd, char *buf) {
    int used = 0;
    while (used < MAX_HEAD - 1) {
        ssize_t n = recv(fd, buf + used, (size_t)(MAX_HEAD - 1 - used), 0);
        if (n == 0) return used > 0 ? used : 0;
        if (n < 0) return -1;
        used += (int)n;
        buf[used] = '\0';
        if (strstr(buf, "\r\n\r\n")) return used;
    }
    return -1;
}

static int send_all(int fd, const char *data, size_t len) {
    while (len > 0) {
        ssize_t n = send(fd, data, len, 0);
        if (n <= 0) return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static void answer(int fd, unsigned long count) {
    char head[MAX_HEAD];
    int len = read_head(fd, head);
    if (len <= 0) return;
    char method[16] = "", path[256] = "";
    if (sscanf(head, "%15s %255s", method, path) != 2) {
        const char *bad = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        send_all(fd, bad, strlen(bad));
        return;
    }
    char body[512];
    int body_len = snprintf(body, sizeof body,
        "<!doctype html><title>c-server</title><h1>Hello from C</h1>"
        "<p>Request %lu: %s %s, served by a WASI program written in C.</p>\n",
        count, method, path);
    char response[1024];
    int n = snprintf(response, sizeof response,
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n"
        "Connection: close\r\nServer: c-server (WASI)\r\n\r\n%s",
        body_len, body);
    if (send_all(fd, response, (size_t)n) == 0) printf("%s %s 200\n", method, path);
    fflush(stdout);
}

// The first socket from fd 3 up to the first fd that is not open.
static int first_socket(void) {
    struct stat st;
    for (int fd = 3; fstat(fd, &st) == 0; fd++) {
        if (S_ISSOCK(st.st_mode)) return fd;
    }
    return -1;
}

int main(void) {
    int listener = first_socket();
    if (listener < 0) {
        fprintf(stderr, "c-server: no listening socket was preopened (run it with --tcplisten)\n");
        return 2;
    }
    printf("c-server: answering on the socket at fd %d\n", listener);
    fflush(stdout);
    for (unsigned long count = 1;; count++) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) continue;
            fprintf(stderr, "c-server: accept failed: %s\n", strerror(errno));
            return 2;
        }
        answer(fd, count);
        shutdown(fd, SHUT_RDWR);
        close(fd);
    }
}
