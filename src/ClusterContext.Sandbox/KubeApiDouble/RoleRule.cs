namespace ClusterContext.Testing.Kube;

/// <summary>One rule of an RBAC Role: these verbs on these resources (<c>pods</c>, <c>pods/portforward</c>) of these API groups.</summary>
/// <param name="ApiGroups">API groups ("" is the core group; "*" any).</param>
/// <param name="Resources">Resources and subresources ("*" any).</param>
/// <param name="Verbs">Verbs ("*" any).</param>
public sealed record RoleRule(IReadOnlyList<string> ApiGroups, IReadOnlyList<string> Resources, IReadOnlyList<string> Verbs)
{
    /// <summary>Whether the rule allows <paramref name="verb"/> on <paramref name="resource"/> in <paramref name="group"/>.</summary>
    public bool Allows(string group, string resource, string verb) =>
        (ApiGroups.Contains("*") || ApiGroups.Contains(group)) &&
        (Resources.Contains("*") || Resources.Contains(resource)) &&
        (Verbs.Contains("*") || Verbs.Contains(verb));
}
