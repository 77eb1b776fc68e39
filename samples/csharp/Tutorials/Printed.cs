using WeightScope.Tensors;

namespace Tutorials;

/// <summary>Small pieces of Python's printing the tutorials need besides WeightScope's tensor printers.</summary>
internal static class Printed
{
    /// <summary><c>str(t.shape)</c>: <c>torch.Size([5, 10])</c>.</summary>
    public static string TorchSize(IEnumerable<long> shape) => $"torch.Size([{string.Join(", ", shape)}])";

    /// <summary><c>str(t.shape)</c> of a file's tensor.</summary>
    public static string TorchSize(TensorEntry t) => TorchSize(t.Shape);
}
