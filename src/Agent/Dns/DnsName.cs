using ClusterContext.Protocol;

namespace ClusterContext.Agent.Dns;

/// <summary>Rules for host names as the resolver accepts and sends them.</summary>
internal static class DnsName
{
    /// <summary>The longest name in text form, without the trailing dot (255 bytes on the wire).</summary>
    public const int MaxLength = 253;

    public const int MaxLabelLength = 63;

    /// <summary>Throws <see cref="RemoteException"/> with <see cref="ErrorCode.InvalidArgument"/> unless the name can be sent in a query.</summary>
    public static void Validate(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (Problem(name) is { } problem)
        {
            throw new RemoteException(ErrorCode.InvalidArgument, $"'{name}' is not a valid host name: {problem}.");
        }
    }

    /// <summary>Whether a query for the name can be encoded: labels of 1 to 63 bytes, at most 253 characters without the trailing dot.</summary>
    public static bool CanEncode(string name)
    {
        var relative = TrimRoot(name);
        return relative.Length is > 0 and <= MaxLength && relative.Split('.').All(l => l.Length is > 0 and <= MaxLabelLength);
    }

    /// <summary>glibc's <c>res_hnok</c>: labels of letters, digits, '-' and '_', the first not starting with '-'.</summary>
    public static bool IsHostName(string name) =>
        !name.StartsWith('-') && TrimRoot(name).All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    public static string TrimRoot(string name) => name.EndsWith('.') ? name[..^1] : name;

    public static int CountDots(string name) => name.AsSpan().Count('.');

    private static string? Problem(string name)
    {
        var relative = TrimRoot(name);
        if (relative.Length == 0)
        {
            return "it is empty";
        }

        if (relative.Length > MaxLength)
        {
            return $"it is longer than {MaxLength} characters";
        }

        foreach (var label in relative.Split('.'))
        {
            if (label.Length == 0)
            {
                return "it has an empty label";
            }

            if (label.Length > MaxLabelLength)
            {
                return $"label '{label}' is longer than {MaxLabelLength} characters";
            }
        }

        // Queries carry names as plain ASCII; backslash escapes and international names (which need
        // IDNA conversion first) are not supported, and blanks or control characters are never meant.
        return relative.Any(c => c is <= ' ' or > '~' or '\\') ? "it contains a character that is not printable ASCII" : null;
    }
}
