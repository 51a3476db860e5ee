// A tour of WASI preview1 through Go's standard library (GOOS=wasip1 GOARCH=wasm).
//
// Usage: go-tour [DIR [ARGS...]] with DIR a preopened directory (default /data), e.g.
//
//	capos run --dir ./scratch::/data --env TOUR_GREETING=hi go-tour.wasm /data one two
//
// It reads stdin to the end, works in DIR/go-tour (leaving summary.txt there), and prints a
// report whose lines are the same on every run. Exit 0 when every step behaved; otherwise 1,
// with the step and the error on stderr.
package main

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// 2020-01-01T00:00:00Z: any working realtime clock is past it.
var year2020 = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

const sleepFor = 50 * time.Millisecond

func ensure(holds bool, what string) error {
	if holds {
		return nil
	}
	return errors.New(what)
}

func argsAndEnv() (string, error) {
	if len(os.Args) == 0 {
		return "", errors.New("argv[0] is missing")
	}
	rest := os.Args[1:]
	quoted := make([]string, len(rest))
	for i, a := range rest {
		quoted[i] = fmt.Sprintf("%q", a)
	}
	fmt.Printf("args: %d after the program name: %s\n", len(rest), strings.Join(quoted, " "))
	vars := os.Environ()
	sort.Strings(vars)
	plural := "s"
	if len(vars) == 1 {
		plural = ""
	}
	fmt.Printf("env: %d variable%s\n", len(vars), plural)
	for _, kv := range vars {
		fmt.Printf("  %s\n", kv)
	}
	if len(rest) > 0 {
		return rest[0], nil
	}
	return "/data", nil
}

func stdio() error {
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		return fmt.Errorf("reading stdin: %w", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(input), "\n"), "\n")
	if len(input) == 0 {
		lines = nil
	}
	last := ""
	if len(lines) > 0 {
		last = lines[len(lines)-1]
	}
	plural := "s"
	if len(lines) == 1 {
		plural = ""
	}
	fmt.Printf("stdin: %d line%s, %d bytes, last line %q\n", len(lines), plural, len(input), last)
	fmt.Fprintln(os.Stderr, "stderr: this line goes to stderr")
	fmt.Println("stdout: this line goes to stdout")
	return nil
}

func files(root string) error {
	dir := filepath.Join(root, "go-tour")
	fmt.Printf("files in %s:\n", dir)
	if _, err := os.Stat(dir); err == nil {
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		fmt.Println("  removed what a previous run left")
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		return err
	}
	fmt.Println("  mkdir go-tour, go-tour/sub")

	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("line 1\n"), 0o644); err != nil {
		return err
	}
	appender, err := os.OpenFile(notes, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := appender.WriteString("line 2\n"); err != nil {
		return err
	}
	if err := appender.Close(); err != nil {
		return err
	}
	text, err := os.ReadFile(notes)
	if err != nil {
		return err
	}
	if err := ensure(string(text) == "line 1\nline 2\n", "notes.txt does not hold both lines"); err != nil {
		return err
	}
	fmt.Printf("  write, append, read back notes.txt: %q\n", text)

	file, err := os.Open(notes)
	if err != nil {
		return err
	}
	at, err := file.Seek(7, io.SeekStart)
	if err != nil {
		return err
	}
	word := make([]byte, 6)
	if _, err := io.ReadFull(file, word); err != nil {
		return err
	}
	end, err := file.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	file.Close()
	if err := ensure(at == 7 && bytes.Equal(word, []byte("line 2")) && end == 14, "seek/read gave the wrong bytes"); err != nil {
		return err
	}
	fmt.Printf("  seek to 7 and read 6 bytes: %q; end of file at %d\n", word, end)

	info, err := os.Stat(notes)
	if err != nil {
		return err
	}
	if err := ensure(info.Mode().IsRegular() && info.Size() == 14, "stat of notes.txt is wrong"); err != nil {
		return err
	}
	fmt.Printf("  stat notes.txt: a file of %d bytes, modified within the last minute: %t\n",
		info.Size(), time.Since(info.ModTime()) < time.Minute)

	if err := os.Rename(notes, filepath.Join(dir, "renamed.txt")); err != nil {
		return err
	}
	if _, err := os.Stat(notes); !errors.Is(err, fs.ErrNotExist) {
		return errors.New("notes.txt still exists after the rename")
	}
	fmt.Println("  rename notes.txt -> renamed.txt")

	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	names := []string{}
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name()+"/")
		} else {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if err := ensure(strings.Join(names, ",") == "renamed.txt,sub/", "readdir shows the wrong entries"); err != nil {
		return err
	}
	fmt.Printf("  readdir go-tour: %s\n", strings.Join(names, ", "))

	if err := os.Remove(filepath.Join(dir, "renamed.txt")); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(dir, "sub")); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "renamed.txt")); !errors.Is(err, fs.ErrNotExist) {
		return errors.New("renamed.txt survived unlink")
	}
	fmt.Println("  unlink renamed.txt, rmdir sub; stat renamed.txt now fails: not found")

	if err := os.WriteFile(filepath.Join(dir, "summary.txt"), []byte("go-tour was here\n"), 0o644); err != nil {
		return err
	}
	fmt.Println("  left go-tour/summary.txt")
	return nil
}

func clocksAndSleep() error {
	if err := ensure(time.Now().After(year2020), "the realtime clock is before 2020"); err != nil {
		return err
	}
	fmt.Println("clocks: realtime is after 2020-01-01: true")
	// time.Since and Sub use the monotonic reading carried by time.Now.
	previous := time.Now()
	for i := 0; i < 1000; i++ {
		now := time.Now()
		if now.Sub(previous) < 0 {
			return errors.New("the monotonic clock went backwards")
		}
		previous = now
	}
	fmt.Println("clocks: monotonic never went backwards in 1000 reads: true")
	before := time.Now()
	time.Sleep(sleepFor)
	if err := ensure(time.Since(before) >= sleepFor, "sleep returned early"); err != nil {
		return err
	}
	fmt.Println("sleep: 50 ms, and at least that long passed: true")
	return nil
}

func random() error {
	a, b := make([]byte, 16), make([]byte, 16)
	if _, err := rand.Read(a); err != nil {
		return err
	}
	if _, err := rand.Read(b); err != nil {
		return err
	}
	if err := ensure(!bytes.Equal(a, make([]byte, 16)), "16 random bytes were all zero"); err != nil {
		return err
	}
	if err := ensure(!bytes.Equal(a, b), "two random draws were equal"); err != nil {
		return err
	}
	fmt.Println("random: 16 bytes twice, not all zero and different: true")
	return nil
}

func tour() error {
	dir, err := argsAndEnv()
	if err != nil {
		return err
	}
	if err := stdio(); err != nil {
		return err
	}
	if err := files(dir); err != nil {
		return fmt.Errorf("files in %s: %w", dir, err)
	}
	if err := clocksAndSleep(); err != nil {
		return err
	}
	return random()
}

func main() {
	fmt.Println("go-tour: WASI preview1 through Go's standard library")
	if err := tour(); err != nil {
		fmt.Fprintf(os.Stderr, "go-tour: FAILED: %v\n", err)
		os.Exit(1)
	}
	fmt.Println("go-tour: all good")
}
