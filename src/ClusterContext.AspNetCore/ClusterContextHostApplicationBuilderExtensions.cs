using System.Collections;
using ClusterContext;
using ClusterContext.AspNetCore.Internal;
using ClusterContext.Configuration;
using ClusterContext.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

/// <summary><c>builder.UseClusterContext()</c>: the app runs in the context of a Kubernetes pod.</summary>
public static class ClusterContextHostApplicationBuilderExtensions
{
    /// <summary>The configuration section holding the options (the keys of <c>clustercontext.json</c>, and <c>enabled</c>).</summary>
    private const string SectionName = "ClusterContext";

    /// <summary>
    /// Runs the app in the context of the pod the options name: starts the session (or joins the one the startup hook
    /// runs), puts the pod's environment into <see cref="IHostApplicationBuilder.Configuration"/> (over
    /// <c>appsettings*.json</c> and local variables, under the command line), registers <see cref="IClusterContext"/>
    /// and sends the session's log to the host's <see cref="ILogger"/>. Options come from <c>clustercontext.json</c>
    /// in the content root, the <c>ClusterContext</c> configuration section (the same keys), the
    /// <c>CLUSTERCONTEXT_*</c> variables, then <paramref name="configure"/>. Outside the Development environment it is
    /// off unless <c>ClusterContext:enabled</c> is true, and says so in the log. Call it early, before the app adds
    /// configuration files from the pod's volumes: the file hooks are in place from here on.
    /// </summary>
    /// <param name="builder">The app's builder (<c>WebApplication.CreateBuilder</c>, <c>Host.CreateApplicationBuilder</c>).</param>
    /// <param name="configure">Changes the options after they are read. Default: none.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ConfigurationException">The options are invalid; the message names the key.</exception>
    /// <exception cref="ClusterContextUnavailableException">The session could not start and <c>required</c> is true.</exception>
    public static IHostApplicationBuilder UseClusterContext(this IHostApplicationBuilder builder, Action<ClusterContextOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Properties.ContainsKey(typeof(HostedClusterContext)))
        {
            return builder;
        }

        var logging = new StartupLoggerFactory();
        var logger = logging.CreateLogger("ClusterContext.Hosting");
        var context = Start(builder, logging, logger, configure);
        if (context.ImportedEnvironment.Count > 0)
        {
            PodEnvironmentConfigurationSource.Insert(builder.Configuration, context.ImportedEnvironment);
            HostingLog.Configuration(logger, context.ImportedEnvironment.Count);
        }

        builder.Properties[typeof(HostedClusterContext)] = context;
        builder.Services.TryAddSingleton<IClusterContext>(context);
        // First among the hosted services: the log is connected before the others start, and the session ends after they stop.
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IHostedService>(services =>
            new ClusterContextHostedService(context, logging, services.GetRequiredService<ILoggerFactory>())));
        return builder;
    }

    private static HostedClusterContext Start(IHostApplicationBuilder builder, StartupLoggerFactory logging, ILogger logger, Action<ClusterContextOptions>? configure)
    {
        // A session already runs (a test fixture's, an earlier host's): this host joins it, whatever its own options say.
        if (ClusterContextSession.Current is { } running)
        {
            HostingLog.Joined(logger, "already running in this process", running.Options.Target ?? running.Options.Agent.Address ?? "agent");
            return HostedClusterContext.FromSession(running, owned: false);
        }

        // The startup hook's session lives in the hook's load context: this copy of the library does not see it as Current.
        if (SessionHandoff.Find() is { } hook)
        {
            var joined = HostedClusterContext.FromHandoff(hook);
            HostingLog.Joined(logger, "the startup hook runs", joined.Target ?? "agent");
            return joined;
        }

        var section = builder.Configuration.GetSection(SectionName);
        var environment = builder.Environment.EnvironmentName;
        switch (Enabled(section))
        {
            case false:
                HostingLog.Off(logger, "ClusterContext:enabled is false.", environment);
                return HostedClusterContext.Off();
            case null when !builder.Environment.IsDevelopment():
                HostingLog.Off(logger, $"the environment is {environment}, and ClusterContext runs in Development only unless enabled.", environment);
                return HostedClusterContext.Off();
        }

        var options = ReadOptions(builder.Environment.ContentRootPath, section);
        configure?.Invoke(options);
        return HostedClusterContext.FromSession(ClusterContextSession.Start(options, logging), owned: true);
    }

    private static bool? Enabled(IConfigurationSection section) => section["enabled"] switch
    {
        null or "" => null,
        var text when bool.TryParse(text, out var value) => value,
        var text => throw new ConfigurationException($"Configuration section {SectionName}: enabled: expected true or false, got \"{text}\"."),
    };

    /// <summary>The file as the startup hook reads it, the section over it, then the <c>CLUSTERCONTEXT_*</c> variables (a developer's shell wins over a checked-in file).</summary>
    private static ClusterContextOptions ReadOptions(string contentRoot, IConfigurationSection section)
    {
        var variables = Environment.GetEnvironmentVariables();
        var options = ConfigurationLoader.Load(contentRoot, new Hashtable { [ConfigurationLoader.ConfigVariable] = variables[ConfigurationLoader.ConfigVariable] });
        if (section.Exists())
        {
            ConfigurationLoader.ApplyConfiguration(options, ConfigurationSectionJson.ToJson(section, skip: ["enabled"]), $"Configuration section {SectionName}");
        }

        ConfigurationLoader.ApplyEnvironment(options, variables);
        return options;
    }
}
