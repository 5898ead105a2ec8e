using System.Text.RegularExpressions;

namespace ClusterContext.Configuration;

/// <summary>Whether a configured pattern compiles, so a bad one stops the app at start with the key that holds it.</summary>
internal static class RegexCheck
{
    /// <summary>Null when <paramref name="pattern"/> is a valid .NET regular expression, else the parser's complaint.</summary>
    public static string? Validate(string pattern)
    {
        try
        {
            _ = new Regex(pattern);
            return null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }
    }
}
