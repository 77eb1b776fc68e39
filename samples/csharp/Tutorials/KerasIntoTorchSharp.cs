using System.Globalization;
using WeightScope;
using WeightScope.Tensors;
using WeightScope.TorchSharp;
using static TorchSharp.torch;

namespace Tutorials;

/// <summary>
/// A Keras <c>.h5</c> full model loaded into the equivalent TorchSharp module (Dense kernels transposed, GRU gates
/// reordered, reset_after's biases split, LSTM's bias into bias_ih, BatchNormalization's moving statistics into running_mean/running_var), then
/// Keras's <c>count_params()</c> with its trainable and non-trainable weights, the TorchSharp module's parameters,
/// buffers and size in MB, and the forward output (in eval mode) for an input read from a <c>.npy</c> file.
/// </summary>
internal static class KerasIntoTorchSharp
{
    public static int Run(string path, string inputPath)
    {
        using var file = ModelFile.Open(path);
        // The twin is chosen by the Keras config's layer types.
        var types = file.Modules.Descendants().Select(n => n.Type).ToHashSet();
        nn.Module<Tensor, Tensor> model = types.Contains("GRU") ? new KerasGru() : types.Contains("LSTM") ? new KerasLstm()
            : types.Contains("BatchNormalization") ? new KerasBatchNorm() : new KerasDense();
        using var inputFile = ModelFile.Open(inputPath);
        var input = inputFile.Tensors[0];
        #region readme
        LoadResult result = model.LoadWeights(file);      // layers paired by name, else in order; layouts converted
        foreach (var t in result.Loaded)
            Console.WriteLine($"{t.Name} <- {t.SourceName}{(t.Transform is null ? "" : $" ({t.Transform})")}");

        long kerasTrainable = file.Tensors.Where(t => t.Role == TensorRole.Parameter).Sum(t => t.ElementCount);
        long kerasFrozen = file.Tensors.Where(t => t.Role == TensorRole.Buffer).Sum(t => t.ElementCount);   // moving statistics
        Console.WriteLine($"Keras: count_params {kerasTrainable + kerasFrozen}, trainable {kerasTrainable}, non-trainable {kerasFrozen}");

        var parameters = model.parameters().ToList();
        var buffers = model.buffers().ToList();              // running_mean, running_var, num_batches_tracked
        long bytes = parameters.Concat(buffers).Sum(t => t.numel() * t.element_size());
        Console.WriteLine($"TorchSharp: parameters {parameters.Sum(p => p.numel())} (trainable {parameters.Where(p => p.requires_grad).Sum(p => p.numel())}), "
            + $"buffers {buffers.Sum(b => b.numel())}, {bytes / 1024.0 / 1024.0:F6} MB");

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
