using System.Globalization;
using System.Reflection;
using System.Text;
using PublicApiGenerator;

/// <summary>
/// A package's public API against its reviewed text, checked in as <c>{assembly}.approved.txt</c>: any change fails
/// with the difference until someone accepts it. Framework-neutral (it throws), so test projects of either xunit
/// link it.
/// </summary>
internal static class PublicApiSnapshot
{
    /// <summary>Set to 1 to write the current API over the approved files instead of failing.</summary>
    public const string AcceptVariable = "ACCEPT_PUBLIC_API";

    /// <summary>Compares <paramref name="assembly"/>'s public API with <c>{folder}/{name}.approved.txt</c>, <paramref name="folder"/> relative to the repository.</summary>
    public static void Verify(Assembly assembly, string folder)
    {
        var name = assembly.GetName().Name!;
        var actual = Normalize(assembly.GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false, DenyNamespacePrefixes = [] }));
        var directory = Path.Combine(RepositoryRoot(), folder);
        var approvedPath = Path.Combine(directory, name + ".approved.txt");
        var receivedPath = Path.Combine(directory, name + ".received.txt");
        var approved = File.Exists(approvedPath) ? Normalize(File.ReadAllText(approvedPath)) : null;
        if (approved == actual)
        {
            File.Delete(receivedPath);
            return;
        }

        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            File.WriteAllText(approvedPath, actual);
            File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, actual);
        var message = new StringBuilder()
            .AppendLine(approved is null
                ? $"{name} has no approved public API ({Path.GetRelativePath(RepositoryRoot(), approvedPath)})."
                : $"{name}'s public API is not the approved one ({Path.GetRelativePath(RepositoryRoot(), approvedPath)}); - approved, + now:")
            .Append(Diff(approved ?? string.Empty, actual))
            .AppendLine(CultureInfo.InvariantCulture, $"If the change is meant, review it and accept it: {AcceptVariable}=1 dotnet test <this test project> --filter FullyQualifiedName~PublicApi")
            .AppendLine(CultureInfo.InvariantCulture, $"(or copy {Path.GetFileName(receivedPath)} over {Path.GetFileName(approvedPath)}), then commit the approved file with the change.");
        throw new PublicApiChangedException(message.ToString());
    }

    private static string Normalize(string text) => text.ReplaceLineEndings("\n").TrimEnd() + "\n";

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "LocalK8s.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No LocalK8s.sln above {AppContext.BaseDirectory}: the approved API files are found from the repository's root.");
    }

    /// <summary>The lines only one side has, in order (a longest-common-subsequence diff: the APIs are a few hundred lines).</summary>
    private static string Diff(string before, string after)
    {
        var a = before.Split('\n');
        var b = after.Split('\n');
        var common = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
        {
            for (var j = b.Length - 1; j >= 0; j--)
            {
                common[i, j] = a[i] == b[j] ? common[i + 1, j + 1] + 1 : Math.Max(common[i + 1, j], common[i, j + 1]);
            }
        }

        var diff = new StringBuilder();
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                x++;
                y++;
            }
            else if (y < b.Length && (x == a.Length || common[x, y + 1] >= common[x + 1, y]))
            {
                diff.Append("+ ").AppendLine(b[y++]);
            }
            else
            {
                diff.Append("- ").AppendLine(a[x++]);
            }
        }

        return diff.ToString();
    }
}

/// <summary>A package's public API differs from its approved text.</summary>
internal sealed class PublicApiChangedException(string message) : Exception(message);
