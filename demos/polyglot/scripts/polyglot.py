"""The polyglot demo's Python program (RustPython): writes /data/from-python.txt,
then tries to read each sibling's file, which is not in its tree (each process
has its own /data). Exits 0 if every read fails, 1 if one succeeds, 2 if it
cannot write."""
import errno
import sys

ME = "python"
mine = f"/data/from-{ME}.txt"
try:
    with open(mine, "w") as f:
        f.write(f"written by the {ME} program\n")
except OSError as e:
    print(f"cannot write {mine}: {e}", file=sys.stderr)
    sys.exit(2)
refused = []
for other in ["rust", "go", "c", "js", "python"]:
    if other == ME:
        continue
    path = f"/data/from-{other}.txt"
    try:
        open(path).read()
    except OSError as e:
        refused.append(f"{other} ({errno.errorcode.get(e.errno, 'refused')})")
    else:
        print(f"read {path}: isolation is broken")
        sys.exit(1)
print(f"wrote {mine}; cannot read {', '.join(refused)}")
