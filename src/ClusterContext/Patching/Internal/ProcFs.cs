using System.Globalization;
using System.Text;

namespace ClusterContext.Patching.Internal;

/// <summary>
/// This process's threads as the kernel reports them. Read with plain system calls, not the BCL's file APIs:
/// those are the very methods being patched, and the app's file hooks must never see the engine's own reads.
/// </summary>
internal static unsafe class ProcFs
{
    /// <summary>The ids of this process's threads.</summary>
    public static List<int> Threads()
    {
        var threads = new List<int>();
        var directory = LibC.OpenDir("/proc/self/task");
        if (directory == 0)
        {
            return threads;
        }

        try
        {
            byte* entry;
            while ((entry = LibC.ReadDir(directory)) != null)
            {
                // struct dirent on Linux x64: d_ino (8), d_off (8), d_reclen (2), d_type (1), then the name.
                var name = new string((sbyte*)(entry + 19));
                if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                {
                    threads.Add(id);
                }
            }
        }
        finally
        {
            _ = LibC.CloseDir(directory);
        }

        return threads;
    }

    /// <summary>A small /proc file's text; null when it is gone (the thread has exited).</summary>
    public static string? Read(string path)
    {
        var fd = LibC.Open(path, LibC.OpenReadOnly | LibC.OpenCloseOnExec);
        if (fd < 0)
        {
            return null;
        }

        try
        {
            var buffer = stackalloc byte[512];
            var length = LibC.Read(fd, buffer, 512);
            return length < 0 ? null : Encoding.ASCII.GetString(buffer, (int)length);
        }
        finally
        {
            _ = LibC.Close(fd);
        }
    }

    /// <summary>A thread's name (at most 15 characters).</summary>
    public static string? ThreadName(int thread) => Read($"/proc/self/task/{thread}/comm")?.TrimEnd('\n');

    /// <summary>Nanoseconds the thread has run on a CPU; -1 when it is gone.</summary>
    public static long RunTime(int thread) => Schedule(thread).RunTime;

    /// <summary>Nanoseconds the thread has run on a CPU and how many times it was given one; (-1, -1) when it is gone.</summary>
    public static (long RunTime, long TimesRun) Schedule(int thread)
    {
        var text = Read($"/proc/self/task/{thread}/schedstat");
        if (text is null)
        {
            return (-1, -1);
        }

        var fields = text.Split(' ');
        return (long.Parse(fields[0], CultureInfo.InvariantCulture), long.Parse(fields[2], CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Where a thread is blocked: the system call it is in (-1 for none) with its arguments, and its user-mode
    /// instruction pointer. Null while the thread is running or runnable, or gone.
    /// </summary>
    public static (long Call, ulong[] Arguments, nint InstructionPointer)? Blocked(int thread)
    {
        var text = Read($"/proc/self/task/{thread}/syscall")?.Trim();
        if (text is null || text.Length == 0 || text == "running")
        {
            return null;
        }

        var fields = text.Split(' ');
        var call = long.Parse(fields[0], CultureInfo.InvariantCulture);
        var pointer = (nint)ulong.Parse(fields[^1].AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        var arguments = call < 0 ? [] : new ulong[fields.Length - 3];
        for (var i = 0; i < arguments.Length; i++)
        {
            arguments[i] = ulong.Parse(fields[i + 1].AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }
        return (call, arguments, pointer);
    }
}
