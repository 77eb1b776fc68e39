using System.Globalization;
using WeightScope;
using WeightScope.TorchSharp;
using static TorchSharp.torch;

namespace Tutorials;

/// <summary>
/// A Keras <c>.h5</c> full model loaded into the equivalent TorchSharp module (Dense kernels transposed, GRU gates
/// reordered, reset_after's biases split), then Keras's <c>count_params()</c>, the size in MB, trainable and
/// non-trainable parameters, and the forward output for an input read from a <c>.npy</c> file.
/// </summary>
internal static class KerasIntoTorchSharp
{
    public static int Run(string path, string inputPath)
    {
        using var file = ModelFile.Open(path);
        // The twin is chosen by the Keras config's layer types.
        bool recurrent = file.Modules.Descendants().Any(n => n.Type is "GRU");
        nn.Module<Tensor, Tensor> model = recurrent ? new KerasGru() : new KerasDense();
        using var inputFile = ModelFile.Open(inputPath);
        var input = inputFile.Tensors[0];
        #region readme
        LoadResult result = model.LoadWeights(file);      // layers paired by name, else in order; layouts converted
        foreach (var t in result.Loaded)
            Console.WriteLine($"{t.Name} <- {t.SourceName}{(t.Transform is null ? "" : $" ({t.Transform})")}");

        Console.WriteLine($"count_params (Keras): {file.Tensors.Totals.Parameters}");
        long trainable = model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());
        long all = model.parameters().Sum(p => p.numel()) + model.buffers().Sum(b => b.numel());
        long bytes = model.parameters().Sum(p => p.numel() * p.element_size()) + model.buffers().Sum(b => b.numel() * b.element_size());
        Console.WriteLine($"parameters (TorchSharp): {all}, trainable {trainable}, non-trainable {all - trainable}");
        Console.WriteLine($"size: {bytes / 1024.0 / 1024.0:F6} MB");

        model.eval();
        using (no_grad())
        {
            var output = model.forward(tensor(input.ToFloat32(), input.Shape.ToArray()));
            for (long i = 0; i < output.shape[0]; i++)
                Console.WriteLine($"output[{i}]: {string.Join(" ", output[i].data<float>().ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}");
        }
        #endregion
        return 0;
    }
}
