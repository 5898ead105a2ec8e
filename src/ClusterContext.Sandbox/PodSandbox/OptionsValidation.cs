using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace ClusterContext.Testing.Sandbox;

/// <summary>Rejects options that would make a broken pod, before anything is created on the host.</summary>
internal static partial class OptionsValidation
{
    public static void Validate(PodSandboxOptions options)
    {
        if (!DnsLabel().IsMatch(options.Namespace))
        {
            throw new ArgumentException($"Namespace '{options.Namespace}' is not a DNS label (lower-case letters, digits, '-').", nameof(options));
        }

        if (!DnsName().IsMatch(options.PodName))
        {
            throw new ArgumentException($"Pod name '{options.PodName}' is not a DNS subdomain name.", nameof(options));
        }

        foreach (var (name, value) in options.Environment)
        {
            if (name.Length == 0 || name.Contains('=', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal)
                || value is null || value.Contains('\0', StringComparison.Ordinal))
            {
                throw new ArgumentException($"Environment variable '{name}' cannot be passed to a process (empty name, '=' in the name, or NUL).", nameof(options));
            }
        }

        // env(1) would take a first word containing '=' for another variable instead of the program.
        if (options.AppCommand.Count == 0 || options.AppCommand[0].Contains('=', StringComparison.Ordinal))
        {
            throw new ArgumentException("AppCommand needs a program path (without '=') as its first element.", nameof(options));
        }

        foreach (var (name, address) in options.ServiceRecords)
        {
            ValidateRecord(name, address);
        }

        if (options.ReadinessTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("ReadinessTimeout must be positive.", nameof(options));
        }
    }

    public static void ValidateRecord(string name, System.Net.IPAddress address)
    {
        if (!DnsName().IsMatch(name))
        {
            throw new ArgumentException($"'{name}' is not a lower-case DNS name.", nameof(name));
        }

        if (address?.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"The record for '{name}' needs an IPv4 address.", nameof(address));
        }
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex("^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsName();
}
