using System.Reflection;

namespace ClusterContext.Tests.PublicApi;

/// <summary>
/// Each package's public API is locked: a change shows here as a difference with its approved text beside this file,
/// to be reviewed and accepted (the failure says how).
/// </summary>
public class PublicApiTests
{
    [Theory]
    [InlineData("ClusterContext")]
    [InlineData("ClusterContext.AspNetCore")]
    public void The_public_API_is_the_approved_one(string package) =>
        PublicApiSnapshot.Verify(Assembly.Load(package), "tests/ClusterContext.Tests/PublicApi");
}
