/**
 * Imported first by `npm start`: Powertools reads this when its modules load, before local mode could set it. EMF
 * metric blobs mean nothing without CloudWatch. It stays overridable from the shell.
 */
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
