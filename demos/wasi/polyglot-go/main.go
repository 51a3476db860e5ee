// The polyglot demo's Go program: writes /data/from-go.txt, then tries to read
// each sibling's file, which is not in its tree (each process has its own
// /data). Exits 0 if every read fails, 1 if one succeeds, 2 if it cannot write.
package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

const me = "go"

func main() {
	mine := "/data/from-" + me + ".txt"
	if err := os.WriteFile(mine, []byte("written by the "+me+" program\n"), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "cannot write %s: %v\n", mine, err)
		os.Exit(2)
	}
	var refused []string
	for _, other := range []string{"rust", "go", "c", "js", "python"} {
		if other == me {
			continue
		}
		path := "/data/from-" + other + ".txt"
		_, err := os.ReadFile(path)
		if err == nil {
			fmt.Printf("read %s: isolation is broken\n", path)
			os.Exit(1)
		}
		why := "refused"
		if errors.Is(err, fs.ErrNotExist) {
			why = "ENOENT"
		}
		refused = append(refused, other+" ("+why+")")
	}
	fmt.Printf("wrote %s; cannot read %s\n", mine, strings.Join(refused, ", "))
}
