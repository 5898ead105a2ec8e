using System.Text.RegularExpressions;

namespace ClusterContext.Session;

/// <summary>Applies the pod's environment to this process, filtered by the <c>env</c> settings.</summary>
internal static class EnvironmentImport
{
    /// <summary>Sets the variables and returns the ones that changed, for logging and the env file.</summary>
    public static IReadOnlyDictionary<string, string> Apply(EnvironmentSettings settings, IReadOnlyList<KeyValuePair<string, string>> pod)
    {
        var applied = Select(settings, pod);
        foreach (var name in settings.Unset)
        {
            Environment.SetEnvironmentVariable(name, null);
        }

        foreach (var (name, value) in applied)
        {
            Environment.SetEnvironmentVariable(name, value);
        }

        if (settings.EnvFile is { Length: > 0 } file)
        {
            File.WriteAllLines(file, applied.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
        }

        return applied;
    }

    /// <summary>
    /// The variables a process gets from the pod (included, not excluded, overridden, not unset), without setting
    /// them: for a process started with them (<c>clusterctx run</c>) or written out (<c>clusterctx env</c>).
    /// </summary>
    public static Dictionary<string, string> Select(EnvironmentSettings settings, IReadOnlyList<KeyValuePair<string, string>> pod)
    {
        var include = settings.Include.Select(Glob).ToList();
        var exclude = settings.Exclude.Select(Glob).ToList();
        var applied = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in pod)
        {
            if (include.Exists(g => g.IsMatch(name)) && !exclude.Exists(g => g.IsMatch(name)))
            {
                applied[name] = value;
            }
        }

        foreach (var (name, value) in settings.Override)
        {
            applied[name] = value;
        }

        foreach (var name in settings.Unset)
        {
            applied.Remove(name);
        }

        return applied;
    }

    private static Regex Glob(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant);
}
