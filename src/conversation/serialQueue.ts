/**
 * Runs tasks one at a time, in call order. A Durable Object's input gate opens
 * whenever it awaits D1, so without this two sends could interleave between
 * "read" and "write" and commit out of order.
 */
export class SerialQueue {
	#tail: Promise<unknown> = Promise.resolve();
	#size = 0;

	/** Tasks waiting or running. */
	get size(): number {
		return this.#size;
	}

	run<T>(task: () => Promise<T>): Promise<T> {
		this.#size++;
		const result = this.#tail.then(task).finally(() => {
			this.#size--;
		});
		this.#tail = result.catch(() => undefined);
		return result;
	}
}
