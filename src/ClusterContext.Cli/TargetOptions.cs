using System.Collections;
using System.CommandLine;
using ClusterContext.Configuration;

namespace ClusterContext.Cli;

/// <summary>
/// The options that say what to run in the context of (<c>-t</c>, <c>-n</c>, <c>--context</c>, <c>-f</c>), read as the
/// hook reads its configuration: <c>clustercontext.json</c> (or <c>-f</c>) with <c>CLUSTERCONTEXT_*</c> over it, and
/// these options over both, so that a program <c>run</c> starts computes the same options (and joins the same session).
/// </summary>
internal sealed class TargetOptions
{
    public Option<string?> Target { get; } = new("--target", "-t")
    {
        Description = "The workload: pod/NAME, deployment/NAME, statefulset/NAME, replicaset/NAME, daemonset/NAME or job/NAME, optionally followed by /container/NAME. Default: target of clustercontext.json or CLUSTERCONTEXT_TARGET.",
        HelpName = "TARGET",
    };

    public Option<string?> Namespace { get; } = new("--namespace", "-n")
    {
        Description = "The Kubernetes namespace. Default: the kubeconfig context's.",
        HelpName = "NAMESPACE",
    };

    public Option<string?> Context { get; } = new("--context")
    {
        Description = "The kubeconfig context. Default: the current context.",
        HelpName = "CONTEXT",
    };

    public Option<FileInfo?> File { get; } = new("--file", "-f")
    {
        Description = "The configuration file. Default: clustercontext.json in the current directory, or CLUSTERCONTEXT_CONFIG.",
        HelpName = "FILE",
    };

    /// <summary>Adds the options to <paramref name="command"/>; <paramref name="target"/> and <paramref name="file"/> say whether it takes those.</summary>
    public void AddTo(Command command, bool target = true, bool file = true)
    {
        if (target)
        {
            command.Options.Add(Target);
        }

        command.Options.Add(Namespace);
        command.Options.Add(Context);
        if (file)
        {
            command.Options.Add(File);
        }
    }

    /// <summary>This process's environment with the options as the <c>CLUSTERCONTEXT_*</c> variables the hook reads.</summary>
    public Hashtable Environment(ParseResult parsed, IDictionary<string, string?>? more = null)
    {
        var environment = new Hashtable(System.Environment.GetEnvironmentVariables(), StringComparer.Ordinal);
        void Set(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                environment[name] = value;
            }
        }

        Set("CLUSTERCONTEXT_TARGET", parsed.GetValue(Target));
        Set("CLUSTERCONTEXT_NAMESPACE", parsed.GetValue(Namespace));
        Set("CLUSTERCONTEXT_CONTEXT", parsed.GetValue(Context));
        if (parsed.GetValue(File) is { } file)
        {
            if (!file.Exists)
            {
                throw new CliException($"The configuration file {file.FullName} (-f) does not exist.", ExitCodes.Usage);
            }

            Set(ConfigurationLoader.ConfigVariable, file.FullName);
        }

        foreach (var (name, value) in more ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                environment.Remove(name);
            }
            else
            {
                environment[name] = value;
            }
        }

        return environment;
    }

    /// <summary>The options a process with <paramref name="environment"/> in the current directory reads.</summary>
    public static ClusterContextOptions Load(IDictionary environment) =>
        ConfigurationLoader.Load(System.Environment.CurrentDirectory, environment);
}
