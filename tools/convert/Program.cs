using MixLens.Convert;

// mixlens-convert: pytorch_model.bin (zip or legacy, single or sharded) -> model.safetensors, never executing pickled code.
return ConvertProgram.Run(args);
