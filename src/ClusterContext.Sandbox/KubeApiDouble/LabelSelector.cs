using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace ClusterContext.Testing.Kube;

/// <summary>
/// The label selectors of the API: equality-based (<c>a=b</c>, <c>a==b</c>, <c>a!=b</c>), existence (<c>a</c>,
/// <c>!a</c>) and set-based (<c>a in (x,y)</c>, <c>a notin (x,y)</c>), comma-separated, all of which must hold.
/// </summary>
public sealed partial class LabelSelector
{
    private readonly List<Func<JsonObject?, bool>> _terms;

    private LabelSelector(List<Func<JsonObject?, bool>> terms) => _terms = terms;

    /// <summary>Parses a selector; an empty one matches everything. A malformed one throws <see cref="FormatException"/>.</summary>
    public static LabelSelector Parse(string text)
    {
        var terms = new List<Func<JsonObject?, bool>>();
        foreach (var raw in SplitTopLevel(text))
        {
            if (SetTerm().Match(raw) is { Success: true } set)
            {
                var key = set.Groups[1].Value;
                var values = set.Groups[3].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
                var negated = set.Groups[2].Value == "notin";
                terms.Add(labels => Value(labels, key) is { } v ? values.Contains(v) != negated : negated);
            }
            else if (raw.Split("!=", 2) is [var nk, var nv])
            {
                terms.Add(labels => Value(labels, nk.Trim()) != nv.Trim());
            }
            else if (raw.Replace("==", "=", StringComparison.Ordinal).Split('=', 2) is [var k, var v])
            {
                terms.Add(labels => Value(labels, k.Trim()) == v.Trim());
            }
            else if (raw.StartsWith('!'))
            {
                terms.Add(labels => Value(labels, raw[1..].Trim()) is null);
            }
            else if (!raw.Contains(' ', StringComparison.Ordinal) && !raw.Contains('(', StringComparison.Ordinal))
            {
                terms.Add(labels => Value(labels, raw) is not null);
            }
            else
            {
                throw new FormatException($"unable to parse requirement: {raw}");
            }
        }

        return new LabelSelector(terms);
    }

    /// <summary>Whether <paramref name="labels"/> satisfy every term.</summary>
    public bool Matches(JsonObject? labels) => _terms.All(term => term(labels));

    private static string? Value(JsonObject? labels, string key) => labels?[key]?.GetValue<string>();

    /// <summary>Splits at commas outside parentheses.</summary>
    private static IEnumerable<string> SplitTopLevel(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i <= text.Length; i++)
        {
            if (i == text.Length || (text[i] == ',' && depth == 0))
            {
                var term = text[start..i].Trim();
                if (term.Length > 0)
                {
                    yield return term;
                }

                start = i + 1;
            }
            else if (text[i] == '(')
            {
                depth++;
            }
            else if (text[i] == ')')
            {
                depth--;
            }
        }
    }

    [GeneratedRegex(@"^(\S+)\s+(in|notin)\s*\((.*)\)$")]
    private static partial Regex SetTerm();
}
