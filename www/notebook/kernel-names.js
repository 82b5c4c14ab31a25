// The names a cell sees, for completion. The editor lives on the page and the kernel in
// a worker that may still be loading, so the names are listed here; a browser test
// (notebook-editing.test.mjs) checks them against a running kernel so they cannot drift.

export const KERNEL_NAMES = {
  members: {
    keras: ['GradientTape', 'Input', 'Model', 'Sequential', 'applications', 'callbacks', 'datasets', 'layers', 'models', 'ops', 'optimizers', 'utils'],
    layers: ['Activation', 'Add', 'AveragePooling2D', 'AvgPool2D', 'BatchNormalization', 'Concatenate', 'Conv2D', 'Conv2DTranspose', 'Convolution2D', 'Convolution2DTranspose', 'Dense', 'DepthwiseConv2D', 'Dropout', 'Flatten', 'GlobalAveragePooling2D', 'GlobalAvgPool2D', 'GlobalMaxPool2D', 'GlobalMaxPooling2D', 'MaxPool2D', 'MaxPooling2D', 'RandomFlip', 'RandomRotation', 'RandomZoom', 'ReLU', 'Rescaling', 'Resizing', 'SeparableConv2D', 'SeparableConvolution2D', 'UpSampling2D', 'ZeroPadding2D', 'add', 'concatenate'],
    datasets: ['baseUrls', 'csvDigits', 'decodeImage', 'digits', 'dogsVsCats', 'fetch', 'list', 'mnistIdx', 'pets', 'photo', 'pick', 'sources', 'split'],
    display: ['chart', 'image', 'markdown', 'mask', 'progress', 'summary', 'table', 'text'],
    kernel: ['InterruptedError', 'backend', 'checkInterrupt', 'interrupted', 'range', 'sleep', 'yield'],
    files: ['fetch', 'pick'],
  },
  globals: ['print', 'zip', 'tensor', 'zeros', 'ones', 'rand', 'randn', 'tidy', 'engine', 'InterruptedError'],
  tensorMethods: ['abs', 'add', 'affine', 'argmax', 'averagePool2d', 'broadcastTo', 'cast', 'clamp', 'clone', 'conv2d', 'data', 'dispose', 'div', 'dtype', 'equal', 'exp', 'free', 'greater', 'log', 'logSoftmax', 'matmul', 'max', 'maxPool2d', 'maximum', 'mean', 'min', 'minimum', 'mul', 'neg', 'pad', 'pow', 'powScalar', 'relu', 'reshape', 'resize', 'shape', 'sigmoid', 'size', 'slice', 'softmax', 'sqrt', 'square', 'sub', 'sum', 'tanh', 'toString', 'transpose'],
};
