using Microsoft.Extensions.Configuration;

namespace ClusterContext.AspNetCore.Internal;

/// <summary>
/// The pod's environment variables as configuration, keyed as the environment-variables provider keys them (without a
/// prefix; <c>__</c> is the section separator). It sits just below the command line: in the pod these variables are
/// the process's environment, which overrides <c>appsettings*.json</c>; locally they must override the developer's
/// own variables as well, and command-line arguments stay on top as they do in the pod.
/// </summary>
internal sealed class PodEnvironmentConfigurationSource(IReadOnlyDictionary<string, string> variables) : IConfigurationSource
{
    public IReadOnlyDictionary<string, string> Variables { get; } = variables;

    public IConfigurationProvider Build(IConfigurationBuilder builder) => new Provider(Variables);

    /// <summary>Puts the source just below the last command-line source of <paramref name="builder"/> (at the end if there is none).</summary>
    public static void Insert(IConfigurationBuilder builder, IReadOnlyDictionary<string, string> variables)
    {
        var sources = builder.Sources;
        var index = sources.Count;
        for (var i = sources.Count - 1; i >= 0; i--)
        {
            if (sources[i] is Microsoft.Extensions.Configuration.CommandLine.CommandLineConfigurationSource)
            {
                index = i;
                break;
            }
        }

        sources.Insert(index, new PodEnvironmentConfigurationSource(variables));
    }

    public override string ToString() => $"{nameof(PodEnvironmentConfigurationSource)} ({Variables.Count} variables)";

    private sealed class Provider(IReadOnlyDictionary<string, string> variables) : ConfigurationProvider
    {
        public override void Load()
        {
            var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, value) in variables)
            {
                data[name.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal)] = value;
            }

            Data = data;
        }

        public override string ToString() => $"PodEnvironmentConfigurationProvider ({variables.Count} variables)";
    }
}
