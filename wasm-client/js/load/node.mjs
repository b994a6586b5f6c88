// sockeye-client for Node, as an ES module: the same module instance as require() gives.
import cjs from './node.cjs';

export * from './node.cjs';
export default cjs.default;
