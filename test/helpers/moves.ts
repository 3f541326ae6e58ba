// Every legal move of a service with `stageCount` stages, for the tests that walk them all (ordering, previews):
// first deployments, stays, one stage forward, rollbacks to 1, and finishing after the last stage.

export type Move = { from?: number; to: number; finish?: boolean };

export function legalMoves(stageCount: number, firstDeploymentsAt: number[] = [1]): Move[] {
    const moves: Move[] = firstDeploymentsAt.map((to) => ({ to }));
    for (let s = 1; s <= stageCount; s++) {
        moves.push({ from: s, to: s });
        if (s < stageCount) moves.push({ from: s, to: s + 1 });
        if (s > 1) moves.push({ from: s, to: 1 });
    }
    moves.push({ from: stageCount, to: 1, finish: true });
    return moves;
}
