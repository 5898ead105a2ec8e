using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.CommandLine;

namespace ClusterContext.Testing.Internal;

/// <summary>
/// The pod's environment variables as configuration, read the way the environment-variables provider reads them
/// (<c>__</c> is the section separator), placed where they rank in the pod: above every source the app added before
/// (appsettings, the local environment), below the command line.
/// </summary>
internal sealed class PodEnvironmentConfigurationSource(IReadOnlyDictionary<string, string> environment) : IConfigurationSource
{
    public static void Insert(IConfigurationBuilder configuration, IReadOnlyDictionary<string, string> environment)
    {
        var source = new PodEnvironmentConfigurationSource(environment);
        var sources = configuration.Sources;
        var commandLine = -1;
        for (var i = 0; i < sources.Count; i++)
        {
            if (sources[i] is CommandLineConfigurationSource)
            {
                commandLine = i;
                break;
            }
        }

        if (commandLine < 0)
        {
            configuration.Add(source);
        }
        else
        {
            sources.Insert(commandLine, source);
        }
    }

    public IConfigurationProvider Build(IConfigurationBuilder builder) => new Provider(environment);

    private sealed class Provider(IReadOnlyDictionary<string, string> environment) : ConfigurationProvider
    {
        public override void Load()
        {
            var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, value) in environment)
            {
                data[name.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal)] = value;
            }

            Data = data;
        }
    }
}
