/** The service's clock. Tests replace `now` (vi.spyOn) to move time without sleeping. */
export const clock = {
	now: (): number => Date.now(),
};
