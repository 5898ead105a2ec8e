using System.Globalization;
using System.Net;

namespace ClusterContext.Agent.Hosting;

/// <summary>The agent's command line.</summary>
internal sealed record AgentOptions(IPEndPoint Listen, int TargetPid, string Token, TimeSpan? IdleTimeout, TimeSpan? Linger = null, byte[]? TokenSha256 = null,
    string? Coordination = Incoming.Coordination.CoordinationSocket.DefaultName)
{
    public const string Usage = """
        Usage: clusterctx-agent --listen ADDR:PORT [--target-pid PID] [--token TOKEN | --token-sha256 HEX]
                                [--idle-timeout SECONDS] [--linger SECONDS] [--coordination NAME|off]

        Serves ClusterContext sessions inside a pod: the target process's environment, files, DNS and
        network, from the pod's namespaces.

          --listen ADDR:PORT       address to accept sessions on, e.g. 127.0.0.1:7777 (reached only by a
                                   port-forward) or 0.0.0.0:7777 (anyone who can reach the pod: give a token)
          --target-pid PID         process whose context is served (default 1: the target container's
                                   main process when the agent shares its PID namespace)
          --token TOKEN            session token clients must present (default: none; the token may
                                   also come from the CLUSTERCONTEXT_AGENT_TOKEN environment variable)
          --token-sha256 HEX       instead of the token, its SHA-256 (64 hex digits): clients present the
                                   token, and whoever reads the agent's arguments learns nothing usable
          --idle-timeout SECONDS   exit after this long with no session (default: never)
          --linger SECONDS         once a session has been served, exit this long after the last one
                                   ends (default: the idle timeout); for an agent started for one user
          --coordination NAME      abstract Unix socket name on which the agents of one pod share its
                                   incoming traffic (default clusterctx-incoming); off: this agent
                                   redirects for its own sessions alone
          --help                   show this text
        """;

    /// <summary>Parses the arguments; null with <paramref name="error"/> set when they are invalid, null without it for --help.</summary>
    public static AgentOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        error = null;
        IPEndPoint? listen = null;
        var pid = 1;
        var token = Environment.GetEnvironmentVariable("CLUSTERCONTEXT_AGENT_TOKEN") ?? string.Empty;
        TimeSpan? idle = null;
        TimeSpan? linger = null;
        byte[]? verifier = null;
        string? coordination = Incoming.Coordination.CoordinationSocket.DefaultName;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name is "--help" or "-h")
            {
                return null;
            }

            if (i + 1 >= args.Count)
            {
                error = name.StartsWith("--", StringComparison.Ordinal) ? $"{name} needs a value." : $"Unexpected argument '{name}'.";
                return null;
            }

            var value = args[++i];
            switch (name)
            {
                case "--listen" when IPEndPoint.TryParse(value, out var endPoint) && value.Contains(':', StringComparison.Ordinal):
                    listen = endPoint;
                    break;
                case "--listen":
                    error = $"--listen '{value}' is not ADDR:PORT (e.g. 0.0.0.0:7777; port 0 picks a free port).";
                    return null;
                case "--target-pid" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed > 0:
                    pid = parsed;
                    break;
                case "--target-pid":
                    error = $"--target-pid '{value}' is not a process id.";
                    return null;
                case "--token":
                    token = value;
                    break;
                case "--token-sha256" when value.Length == 64 && value.All(char.IsAsciiHexDigit):
                    verifier = Convert.FromHexString(value);
                    break;
                case "--token-sha256":
                    error = $"--token-sha256 '{value}' is not a SHA-256 digest (64 hexadecimal digits).";
                    return null;
                case "--idle-timeout" or "--linger" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0:
                    (name == "--linger" ? ref linger : ref idle) = TimeSpan.FromSeconds(seconds);
                    break;
                case "--idle-timeout" or "--linger":
                    error = $"{name} '{value}' is not a positive number of seconds.";
                    return null;
                case "--coordination" when value == "off":
                    coordination = null;
                    break;
                case "--coordination" when value.Length is > 0 and <= 100 && !value.Contains('\0', StringComparison.Ordinal):
                    coordination = value;
                    break;
                case "--coordination":
                    error = $"--coordination '{value}' is not a socket name (1-100 characters) or 'off'.";
                    return null;
                default:
                    error = $"Unknown option '{name}'.";
                    return null;
            }
        }

        if (listen is null)
        {
            error = "--listen ADDR:PORT is required.";
            return null;
        }

        if (verifier is not null && token.Length > 0)
        {
            error = "Give the token (--token or CLUSTERCONTEXT_AGENT_TOKEN) or its digest (--token-sha256), not both.";
            return null;
        }

        return new AgentOptions(listen, pid, token, idle, linger, verifier, coordination);
    }
}
