namespace ServerV3.Protocol;

/// <summary>400 errors worded, coded and pointed at a parameter as OpenAI does.</summary>
internal static class ParameterErrors
{
    public static ApiError Missing(string param) =>
        ApiError.BadRequest($"Missing required parameter: '{param}'.", param, "missing_required_parameter");

    public static ApiError InvalidType(string param, string expected, string? got) =>
        ApiError.BadRequest(
            got is null
                ? $"Invalid type for '{param}': expected {expected}."
                : $"Invalid type for '{param}': expected {expected}, but got {got} instead.",
            param,
            "invalid_type");

    public static ApiError InvalidValue(string param, string message) =>
        ApiError.BadRequest(message, param, "invalid_value");

    public static ApiError EmptyArray(string param) =>
        ApiError.BadRequest(
            $"Invalid '{param}': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            param,
            "empty_array");

    public static ApiError Unsupported(string param, string message) =>
        ApiError.BadRequest(message, param, "unsupported_parameter");

    public static ApiError BelowMinimum(string param, int minimum, int actual) =>
        OutOfRange(param, "integer below minimum value", $">= {minimum}", actual, "integer_below_min_value");

    public static ApiError AboveMaximum(string param, int maximum, int actual) =>
        OutOfRange(param, "integer above maximum value", $"<= {maximum}", actual, "integer_above_max_value");

    public static ApiError BelowMinimum(string param, double minimum, double actual, bool exclusive = false) =>
        OutOfRange(param, "decimal below minimum value", $"{(exclusive ? ">" : ">=")} {minimum}", actual, "decimal_below_min_value");

    public static ApiError AboveMaximum(string param, double maximum, double actual) =>
        OutOfRange(param, "decimal above maximum value", $"<= {maximum}", actual, "decimal_above_max_value");

    private static ApiError OutOfRange(string param, string problem, string expected, object actual, string code) =>
        ApiError.BadRequest($"Invalid '{param}': {problem}. Expected a value {expected}, but got {actual} instead.", param, code);
}
