namespace ClusterContext.Testing.Tests.PublicApi;

/// <summary>The fixture package's public API is locked like the others' (the failure says how to accept a change).</summary>
public class PublicApiTests
{
    [Fact]
    public void The_public_API_is_the_approved_one() =>
        PublicApiSnapshot.Verify(typeof(ClusterContextFixture).Assembly, "tests/ClusterContext.Testing.Tests/PublicApi");
}
