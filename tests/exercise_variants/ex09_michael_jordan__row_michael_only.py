def fact_neuron(michael, jordan, basketball):
    return michael * 2.0, -1.5, basketball * 2.0       # asks about Michael alone
