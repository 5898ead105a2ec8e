using System.Text;
using ClusterContext.Protocol.Messages;

namespace ClusterContext.Agent.Target;

/// <summary>Parses <c>/proc/PID/mountinfo</c> (see proc(5)).</summary>
internal static class MountInfoParser
{
    public static IReadOnlyList<MountEntry> Parse(string text)
    {
        var mounts = new List<MountEntry>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // id parent major:minor root mount-point options [optional fields...] - fstype source super-options
            var fields = line.Split(' ');
            var separator = Array.IndexOf(fields, "-", 6);
            if (fields.Length < 7 || separator < 0 || separator + 2 >= fields.Length)
            {
                continue;
            }

            var options = fields[5].Split(',');
            mounts.Add(new MountEntry(
                MountPoint: Unescape(fields[4]),
                Root: Unescape(fields[3]),
                FileSystemType: fields[separator + 1],
                Source: Unescape(fields[separator + 2]),
                ReadOnly: options.Contains("ro")));
        }

        return mounts;
    }

    /// <summary>The kernel writes space, tab, newline and backslash as three-digit octal escapes.</summary>
    private static string Unescape(string value)
    {
        if (!value.Contains('\\', StringComparison.Ordinal))
        {
            return value;
        }

        var builder = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && IsOctal(value, i + 1))
            {
                builder.Append((char)Convert.ToInt32(value.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                builder.Append(value[i]);
            }
        }

        return builder.ToString();
    }

    private static bool IsOctal(string value, int start) =>
        start + 3 <= value.Length && !value.AsSpan(start, 3).ContainsAnyExcept(OctalDigits);

    private static readonly System.Buffers.SearchValues<char> OctalDigits = System.Buffers.SearchValues.Create("01234567");
}
