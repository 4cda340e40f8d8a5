using System.Text;
using System.Text.Json;

namespace ServerV3.Server.Tests.Http;

/// <summary>
/// The built-in demo model through the whole server (tokenizer, engine with MTP speculation, detokenizer): greedy
/// continuations equal the ones its reference implementation published (models/kjv-tiny-v3/README.md).
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class DemoModelTests(ServerFixture server)
{
    [Theory]
    [InlineData("And the LORD said unto Moses",
        "And the LORD said unto Moses, I will not be a man of the LORD, and the people shall be with thee.\nAnd the LORD said unto Moses, I will not be a great, and I will make thee a great city, and I will make thee a")]
    [InlineData("Blessed are the",
        "Blessed are the LORD of hosts, and the children of Israel, and the children of Israel, and the children of Israel, and the children of Israel, and the children of Israel, and the children of Israel, and the children of Israel, and the")]
    public async Task GreedyContinuationsMatchTheReference(string prompt, string expected)
    {
        string body = JsonSerializer.Serialize(new { prompt, max_tokens = 48, temperature = 0, echo = true });
        using var response = await server.Http.PostAsync("/v1/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0].GetProperty("text").GetString();
        Assert.Equal(expected, text);
    }

    [Fact]
    public async Task TheMtpHeadDraftsAsWellAsItsReferenceMeasured()
    {
        var engine = server.Model.Served!.Services.Engine;
        var before = engine.Counters.Speculation;
        foreach (string prompt in new[] { "In the beginning", "And the LORD said unto Moses", "Blessed are the" })
        {
            string body = JsonSerializer.Serialize(new { prompt, max_tokens = 48, temperature = 0 });
            using var response = await server.Http.PostAsync("/v1/completions", new StringContent(body, Encoding.UTF8, "application/json"));
            response.EnsureSuccessStatusCode();
        }
        for (int i = 0; i < 100 && engine.Counters.NumRunning > 0; i++) await Task.Delay(10);
        var after = engine.Counters.Speculation;
        double rate = (double)(after.AcceptedTokens - before.AcceptedTokens) / (after.DraftedTokens - before.DraftedTokens);
        // The reference measured 117/144 = 81.2% on these continuations; allow for where drafting starts and ends.
        Assert.InRange(rate, 0.70, 0.92);
    }
}
