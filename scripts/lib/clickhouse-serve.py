# Runs clickhouse-local from libchdb.so as a server: `SYSTEM START LISTEN` opens the HTTP
# and native listeners, which stay open while the statement that opened them runs. The
# server entry point exists only through chdb_query_cmdline (chdb_connect has no listeners).
#
#   python3 clickhouse-serve.py LIBCHDB [clickhouse-local arguments...]
#   python3 clickhouse-serve.py LIBCHDB --check    (loads the library and exits; for `install`)
import ctypes
import sys

lib = ctypes.CDLL(sys.argv[1])
if sys.argv[2:] == ["--check"]:
    getattr(lib, "chdb_query_cmdline")
    sys.exit(0)

args = ["clickhouse"] + sys.argv[2:]
argv = (ctypes.c_char_p * len(args))(*[a.encode() for a in args])
lib.chdb_query_cmdline.restype = ctypes.c_void_p
lib.chdb_query_cmdline.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_char_p)]
lib.chdb_result_error.restype = ctypes.c_char_p
lib.chdb_result_error.argtypes = [ctypes.c_void_p]
res = lib.chdb_query_cmdline(len(args), argv)
err = lib.chdb_result_error(res) if res else b"no result"
if err:
    sys.stderr.write("clickhouse: " + err.decode(errors="replace") + "\n")
    sys.exit(1)
