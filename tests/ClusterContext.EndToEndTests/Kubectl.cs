using System.Diagnostics;
using System.Text;

namespace ClusterContext.EndToEndTests;

/// <summary>Runs a real kubectl (the default one, or a given version such as 1.29) against a kubeconfig.</summary>
internal static class Kubectl
{
    /// <summary>kubectl VERSION as installed beside the default kubectl (kubectl.1.29 etc.), or the default for null.</summary>
    public static string Path(string? version = null)
    {
        if (version is null)
        {
            return "kubectl";
        }

        var directory = System.IO.Path.GetDirectoryName(new FileInfo(Which("kubectl")).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Which("kubectl"))!;
        var path = System.IO.Path.Combine(directory, $"kubectl.{version}");
        return File.Exists(path) ? path : throw new FileNotFoundException($"kubectl {version} is not installed beside kubectl ({path}).");
    }

    /// <summary>Runs kubectl to its end (60 s at most) with <paramref name="input"/> as stdin; its exit code and both outputs.</summary>
    public static async Task<(int ExitCode, byte[] Stdout, string Stderr)> RunAsync(string kubeconfig, byte[]? input, string? version, params string[] arguments)
    {
        var info = new ProcessStartInfo(Path(version), [$"--kubeconfig={kubeconfig}", .. arguments])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info)!;
        var stdout = new MemoryStream();
        var reading = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var errors = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.BaseStream.WriteAsync(input);
        }

        process.StandardInput.Close();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            process.Kill();
            throw new TimeoutException($"kubectl {string.Join(' ', arguments)} did not end within 60 s; stderr: {await errors}");
        }

        await reading;
        return (process.ExitCode, stdout.ToArray(), await errors);
    }

    public static async Task<string> TextAsync(string kubeconfig, params string[] arguments)
    {
        var (code, stdout, stderr) = await RunAsync(kubeconfig, null, null, arguments);
        Assert.True(code == 0, $"kubectl {string.Join(' ', arguments)} exited {code}: {stderr}");
        return Encoding.UTF8.GetString(stdout);
    }

    private static string Which(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => System.IO.Path.Combine(d, program)).FirstOrDefault(File.Exists)
        ?? throw new FileNotFoundException($"{program} is not on PATH.");
}
