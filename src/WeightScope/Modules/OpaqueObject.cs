namespace WeightScope.Modules;

/// <summary>
/// An object from a file whose class WeightScope does not model (a custom Python class in a pickle, say): kept inert,
/// with its class name, constructor arguments and state, so it can be shown but never run.
/// </summary>
/// <param name="TypeName">Qualified class name, e.g. <c>__main__.MyConfig</c>.</param>
/// <param name="Arguments">Constructor/reduce arguments as recorded (may be empty).</param>
/// <param name="State">The object's state (<c>__dict__</c> or <c>__setstate__</c> argument), or null.</param>
public sealed record OpaqueObject(string TypeName, IReadOnlyList<object?> Arguments, object? State)
{
    /// <inheritdoc />
    public override string ToString() => $"<{TypeName}>";
}
