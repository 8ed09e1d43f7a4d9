"""The Dormand–Prince 5(4) Butcher tableau, shared by the adaptive ODE and PDE steppers.

Dormand and Prince (1980); Hairer, Nørsett, Wanner, *Solving ODEs I*, Table 5.2. The
last row of A is the fifth-order solution (first-same-as-last), E = b5 - b4 the error
weights.
"""

C = (0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0)
A = (
    (),
    (1 / 5,),
    (3 / 40, 9 / 40),
    (44 / 45, -56 / 15, 32 / 9),
    (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
    (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
    (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
)
E = (71 / 57600, 0.0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40)
