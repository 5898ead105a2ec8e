using ClusterContext.Agent.Dns;

namespace ClusterContext.Agent.Tests.Dns;

public class SearchListTests
{
    private static readonly ResolverConfig Pod = new()
    {
        SearchDomains = ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local"],
        Ndots = 5,
    };

    [Fact]
    public void Names_with_fewer_dots_than_ndots_try_the_search_list_first()
    {
        Assert.Equal(
            ["redis.shop.svc.cluster.local", "redis.svc.cluster.local", "redis.cluster.local", "redis"],
            SearchList.Candidates("redis", Pod));
        Assert.Equal(
            ["api.example.com.shop.svc.cluster.local", "api.example.com.svc.cluster.local", "api.example.com.cluster.local", "api.example.com"],
            SearchList.Candidates("api.example.com", Pod));
    }

    [Fact]
    public void Names_with_at_least_ndots_dots_are_tried_as_they_are_first()
    {
        var config = Pod with { Ndots = 1 };

        Assert.Equal(
            ["api.example.com", "api.example.com.shop.svc.cluster.local", "api.example.com.svc.cluster.local", "api.example.com.cluster.local"],
            SearchList.Candidates("api.example.com", config));
        Assert.True(SearchList.TriesAsIsFirst("api.example.com", config));
        Assert.False(SearchList.TriesAsIsFirst("redis", config));
        Assert.True(SearchList.TriesAsIsFirst("redis", config with { Ndots = 0 }));
    }

    [Fact]
    public void A_trailing_dot_makes_the_name_absolute()
    {
        Assert.Equal(["redis.shop"], SearchList.Candidates("redis.shop.", Pod));
        Assert.True(SearchList.TriesAsIsFirst("redis.", Pod));
    }

    [Fact]
    public void The_root_in_the_search_list_stands_for_the_name_itself()
    {
        var config = Pod with { SearchDomains = ["a.example", ".", "b.example"] };

        Assert.Equal(["redis.a.example", "redis", "redis.b.example"], SearchList.Candidates("redis", config));
    }

    [Fact]
    public void Duplicates_and_names_too_long_stay_in_the_list_as_glibc_sends_them()
    {
        var longDomain = string.Join('.', Enumerable.Repeat(new string('x', 62), 4));
        var config = Pod with { SearchDomains = ["a.example", "A.EXAMPLE", longDomain] };

        Assert.Equal(["redis.a.example", "redis.A.EXAMPLE", $"redis.{longDomain}", "redis"], SearchList.Candidates("redis", config));
        Assert.Equal(["redis"], SearchList.Candidates("redis", new ResolverConfig()));
    }

    [Fact]
    public void No_tld_query_leaves_out_a_name_without_dots_but_not_one_with_dots()
    {
        var config = Pod with { NoTldQuery = true };

        Assert.Equal(["redis.shop.svc.cluster.local", "redis.svc.cluster.local", "redis.cluster.local"], SearchList.Candidates("redis", config));
        Assert.Equal("a.b", SearchList.Candidates("a.b", config)[^1]);
        Assert.Equal(["redis"], SearchList.Candidates("redis", new ResolverConfig { NoTldQuery = true }));
    }
}
