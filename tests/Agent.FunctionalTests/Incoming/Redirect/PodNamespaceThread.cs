using System.ComponentModel;
using System.Runtime.InteropServices;

namespace ClusterContext.Agent.FunctionalTests.Incoming.Redirect;

/// <summary>
/// Runs a function on a short-lived thread that has entered a network namespace. Sockets keep the namespace they
/// were created in, so the redirector opened there programs that namespace for its whole life, from any thread.
/// </summary>
internal static class PodNamespaceThread
{
    private const int CloneNewNet = 0x40000000;

    public static T Run<T>(string namespacePath, Func<T> function)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle(namespacePath);
                if (SetNs((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new Win32Exception(Marshal.GetLastPInvokeError(), $"setns({namespacePath}) failed");
                }

                result = function();
            }
            catch (Exception e)
            {
                failure = e;
            }
        })
        {
            IsBackground = true,
            Name = "redirect tests setns",
        };
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }

        return result;
    }

    // DllImport, not LibraryImport: only blittable ints cross, and this project compiles without unsafe code.
    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int SetNs(int fd, int nsType);
}
