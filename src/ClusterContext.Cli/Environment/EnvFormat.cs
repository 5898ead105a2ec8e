using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ClusterContext.Cli.Environment;

/// <summary>The pod's variables written for a tool: <c>dotenv</c>, <c>json</c>, <c>sh</c>, <c>ps1</c> or <c>launchsettings</c>.</summary>
internal static class EnvFormat
{
    public static readonly string[] Names = ["dotenv", "json", "sh", "ps1", "launchsettings"];

    private static readonly JsonWriterOptions Indented = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Write(string format, IReadOnlyDictionary<string, string> variables)
    {
        var sorted = variables.OrderBy(v => v.Key, StringComparer.Ordinal).ToList();
        var text = new StringBuilder();
        switch (format)
        {
            case "dotenv":
                foreach (var (name, value) in sorted)
                {
                    text.Append(name).Append('=').Append(DotenvValue(value)).Append('\n');
                }

                return text.ToString();
            case "sh":
                foreach (var (name, value) in sorted)
                {
                    text.Append("export ").Append(name).Append('=').Append(ShellQuote(value)).Append('\n');
                }

                return text.ToString();
            case "ps1":
                foreach (var (name, value) in sorted)
                {
                    text.Append("$env:").Append(name).Append(" = '").Append(value.Replace("'", "''", StringComparison.Ordinal)).Append("'\n");
                }

                return text.ToString();
            case "json":
                return Json(sorted, wrap: false);
            case "launchsettings":
                return Json(sorted, wrap: true);
            default:
                throw new CliException($"--format '{format}' is not a format; use {string.Join(", ", Names)}.", ExitCodes.Usage);
        }
    }

    /// <summary>
    /// A value as dotenv readers (docker compose, python-dotenv, VS Code's <c>envFile</c>) read it back: bare when it is
    /// plain; in single quotes (literal to compose) when it holds no quote, backslash or line break; else in double
    /// quotes with <c>\\ \" \n \r</c> escaped. A <c>$</c> stays as it is: no escape of it is read back alike by all
    /// of them, and readers that expand <c>${VAR}</c> expand it.
    /// </summary>
    public static string DotenvValue(string value)
    {
        if (value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or '/' or ':' or ',' or '@' or '+' or '%'))
        {
            return value;
        }

        if (!value.Any(c => c is '\'' or '\\' or '\n' or '\r'))
        {
            return "'" + value + "'";
        }

        var quoted = new StringBuilder("\"");
        foreach (var c in value)
        {
            quoted.Append(c switch
            {
                '\\' => "\\\\",
                '"' => "\\\"",
                '\n' => "\\n",
                '\r' => "\\r",
                _ => c.ToString(),
            });
        }

        return quoted.Append('"').ToString();
    }

    /// <summary>A POSIX shell word that is exactly <paramref name="value"/>.</summary>
    public static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string Json(List<KeyValuePair<string, string>> variables, bool wrap)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, Indented))
        {
            writer.WriteStartObject();
            if (wrap)
            {
                writer.WriteStartObject("environmentVariables");
            }

            foreach (var (name, value) in variables)
            {
                writer.WriteString(name, value);
            }

            if (wrap)
            {
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}
