# bench/profile.gdb — run by bench/profile.sh under gdb -batch (x86-64: arguments read from the
# registers): one line per volume mount, hive load and hivex open of a rdprescue run, with the
# process's resident memory at that moment (VmRSS, the peak so far VmHWM, anonymous and shared).
set pagination off
set confirm off
python
import gdb

def status():
    pid = gdb.selected_inferior().pid
    d = dict(l.split(":", 1) for l in open("/proc/%d/status" % pid))
    return " ".join("%s %6d MiB" % (k, int(d[k].split()[0]) // 1024)
                    for k in ("VmRSS", "VmHWM", "RssAnon", "RssShmem"))

def arg_str(reg):
    try:
        return gdb.parse_and_eval("(char *)$" + reg).string()
    except gdb.error:
        return "?"

class At(gdb.Breakpoint):
    def __init__(self, fn, fmt):
        super().__init__(fn, internal=True)
        self.fn, self.fmt = fn, fmt
    def stop(self):
        what = self.fmt() if self.fmt else ""
        print("CALL %-18s %-28s %s" % (self.fn, what, status()))
        return False

At("rp_vol_open_ntfs", None)
At("rp_target_open", None)
At("rp_hive_file_load", lambda: arg_str("rdx"))
At("reg_hivex_open", lambda: "%s %.1f MB" % (arg_str("rdi"), int(gdb.parse_and_eval("$rdx")) / 1048576.0))
At("rp_plan_store_backup", None)
At("exit", None)
end
run
