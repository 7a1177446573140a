using System.Diagnostics;
using System.Runtime.InteropServices;

namespace MixLens.Bench.Common;

/// <summary>
/// CPU time (time actually spent running, not waiting for a core), for measurements on a shared machine: a kernel's
/// work per CPU-second is what it does while it has a core, whatever else runs. The calling thread's clock is
/// <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c> from libc (Linux; NaN elsewhere); the process clock is
/// <see cref="Process.TotalProcessorTime"/> (all threads, GC and JIT included).
/// </summary>
public static partial class CpuClock
{
    const int ClockThreadCpuTimeId = 3;

    [StructLayout(LayoutKind.Sequential)]
    struct Timespec { public long Seconds; public long Nanoseconds; }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out Timespec time);

    /// <summary>Seconds of CPU time the calling thread has used, or NaN where the clock is unavailable.</summary>
    public static double ThreadSeconds()
    {
        if (!OperatingSystem.IsLinux()) return double.NaN;
        return ClockGetTime(ClockThreadCpuTimeId, out var t) == 0 ? t.Seconds + t.Nanoseconds * 1e-9 : double.NaN;
    }

    /// <summary>Seconds of CPU time used by all threads of this process.</summary>
    public static double ProcessSeconds()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime.TotalSeconds;
    }
}
