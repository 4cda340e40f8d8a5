using ServerV3.Protocol;
using ServerV3.Server.Hosting;

namespace ServerV3.Server.Endpoints;

/// <summary>vLLM's POST /tokenize (a prompt, or chat messages through the template) and POST /detokenize.</summary>
public static class TokenizerEndpoints
{
    public static async Task TokenizeAsync(HttpContext context, ModelService modelService)
    {
        if (await ApiRequest.ReadAsync(context, modelService, ProtocolJsonContext.Relaxed.TokenizeRequest, RequestValidator.ValidateTokenize)
            is not var (served, request))
            return;
        IReadOnlyList<int> tokens;
        if (request.Messages is { } messages)
        {
            if (served.Services.ChatTemplate is not { } template)
            {
                await HttpIo.WriteErrorAsync(context, ApiError.BadRequest("the model has no chat_template", "messages"));
                return;
            }
            string text;
            try
            {
                text = template.BuildPrompt(ChatCompletionsEndpoint.Messages(messages), addGenerationPrompt: request.AddGenerationPrompt);
            }
            catch (Tokenization.Jinja.JinjaException e)
            {
                await HttpIo.WriteErrorAsync(context, ApiError.BadRequest($"the chat template rejected the conversation: {e.Message}", "messages"));
                return;
            }
            tokens = served.Services.Tokenizer.Encode(text, request.AddSpecialTokens);
        }
        else
        {
            tokens = served.Services.Tokenizer.Encode(request.Prompt ?? "", request.AddSpecialTokens);
        }
        await HttpIo.WriteJsonAsync(context, new TokenizeResponse(served.Limits.MaxModelLength, tokens), ProtocolJsonContext.Relaxed.TokenizeResponse);
    }

    public static async Task DetokenizeAsync(HttpContext context, ModelService modelService)
    {
        if (await ApiRequest.ReadAsync(context, modelService, ProtocolJsonContext.Relaxed.DetokenizeRequest, RequestValidator.ValidateDetokenize)
            is not var (served, request))
            return;
        await HttpIo.WriteJsonAsync(context, new DetokenizeResponse(served.Services.Tokenizer.Decode(request.Tokens, skipSpecialTokens: false)), ProtocolJsonContext.Relaxed.DetokenizeResponse);
    }
}
