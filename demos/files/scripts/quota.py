# The same quota through WASI: Python's own file objects on /home, which the
# shim serves with the Directory init passed on. The write that does not fit
# fails with ENOSPC (reported by the next call on the file: the shim writes
# behind), and nothing of it is kept.
import errno
import os

PATH = '/home/python-big.bin'
try:
    with open(PATH, 'wb') as f:
        for _ in range(32):
            f.write(b'\xa5' * 65536)
            f.flush()
        os.fsync(f.fileno())
    print('files (python): 2 MiB fit in 1 MiB: the quota did not hold')
    raise SystemExit(1)
except OSError as e:
    print(f'files (python): writing 2 MiB to /home failed with {errno.errorcode.get(e.errno, e.errno)}: {e.strerror}')
finally:
    if os.path.exists(PATH):
        os.remove(PATH)
print('files (python): /home holds', ', '.join(sorted(os.listdir('/home'))))
