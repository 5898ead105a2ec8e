using System.Diagnostics;

namespace ClusterContext.Testing.Sandbox.Processes;

/// <summary>
/// Runs external tools with an argument list, never through a shell, so names and paths from options cannot inject
/// commands; stderr is kept because it is the only useful part of an error report.
/// </summary>
internal static class CommandRunner
{
    public static ProcessStartInfo CreateStartInfo(string fileName, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(fileName) { UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }

    public static async Task<CommandResult> RunAsync(string fileName, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var info = CreateStartInfo(fileName, arguments);
        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");

        // Nothing we run reads stdin; closing it keeps a tool that unexpectedly does from waiting forever.
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw;
        }

        return new CommandResult(Describe(info), process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
    }

    /// <summary>Runs a command that must succeed; a failure becomes a <see cref="PodSandboxException"/> naming <paramref name="step"/>.</summary>
    public static async Task<CommandResult> RunCheckedAsync(string step, string fileName, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var result = await RunAsync(fileName, arguments, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new PodSandboxException(step, $"'{result.CommandLine}' exited with code {result.ExitCode}.", result.StandardError);
        }

        return result;
    }

    public static string Describe(ProcessStartInfo info) =>
        string.Join(' ', info.ArgumentList.Select(Quote).Prepend(info.FileName));

    private static string Quote(string argument) =>
        argument.Length > 0 && !argument.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '\\' or '$')
            ? argument
            : $"'{argument.Replace("'", "'\\''", StringComparison.Ordinal)}'";
}
