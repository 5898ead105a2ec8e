using System.Collections;
using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace ClusterContext.Cli.Run;

/// <summary>
/// The program <c>run</c> starts, on this terminal (its standard streams are the CLI's): SIGINT, SIGTERM and SIGHUP
/// sent to the CLI are passed to it (the CLI itself does not stop), and its exit code is the CLI's.
/// </summary>
internal static partial class ChildProcess
{
    public static async Task<int> RunAsync(string fileName, IReadOnlyList<string> arguments, IDictionary environment)
    {
        var info = new ProcessStartInfo(fileName) { UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Clear();
        foreach (DictionaryEntry variable in environment)
        {
            info.Environment[(string)variable.Key] = variable.Value as string;
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new CliException($"Could not start {fileName}.", ExitCodes.RunFailed);
        }
        catch (Win32Exception ex)
        {
            var code = ex.NativeErrorCode == 2 ? ExitCodes.NotFound : ExitCodes.NotExecutable;
            throw new CliException($"Cannot run {fileName}: {ex.Message}.", code, ex);
        }

        using (process)
        {
            var registrations = new List<PosixSignalRegistration>();
            if (!OperatingSystem.IsWindows())
            {
                foreach (var (signal, number) in new[] { (PosixSignal.SIGINT, 2), (PosixSignal.SIGTERM, 15), (PosixSignal.SIGHUP, 1) })
                {
                    registrations.Add(PosixSignalRegistration.Create(signal, context =>
                    {
                        // The program decides what the signal means; the CLI waits for its exit code.
                        context.Cancel = true;
                        try
                        {
                            if (!process.HasExited)
                            {
                                _ = Kill(process.Id, number);
                            }
                        }
                        catch (InvalidOperationException)
                        {
                        }
                    }));
                }
            }

            try
            {
                await process.WaitForExitAsync().ConfigureAwait(false);
                return process.ExitCode;
            }
            finally
            {
                foreach (var registration in registrations)
                {
                    registration.Dispose();
                }
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
