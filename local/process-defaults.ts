/**
 * Imported first by `npm start`: Powertools and the SDK read these when their modules load, before local mode
 * could set them. EMF metric blobs mean nothing without CloudWatch, and the SDK's Node 22 notice is not
 * something a local user can act on mid-demo. Both stay overridable from the shell.
 */
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
