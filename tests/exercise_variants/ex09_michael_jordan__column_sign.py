def fact_neuron(michael, jordan, basketball):
    return michael + jordan, -1.5, basketball * -2.0
